"""Redis layout of the Repository and every read and write on it.

Keys:
- `ocr:stream:<camera>`  a stream per camera; entry id = capture time in ms (so ids order and
  `since` filter by capture time); fields time, frame, text, confidence.
- `ocr:cameras`          set of camera ids that ever wrote.
- `ocr:token:<TOKEN>`    search index: sorted set of `<camera> <entry id>`, score = the entry
                         id's ms, one per upper-cased word of the text.
Retention (`apply_retention`) trims streams and index entries older than a cutoff.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..records import TextRecord

CAMERAS_KEY = "ocr:cameras"
STREAM_PREFIX = "ocr:stream:"
TOKEN_PREFIX = "ocr:token:"
_TOKEN = re.compile(r"[0-9A-Z]+")

# One atomic write per record: the stream entry, its index entries, the camera registry.
# The id asks for the capture ms; if the stream already holds a later id (a clock step back),
# Redis picks the id itself so the write never fails and stream order stays arrival order.
_APPEND_SCRIPT = """
local fields = {'time', ARGV[2], 'frame', ARGV[3], 'text', ARGV[4], 'confidence', ARGV[5]}
local ok, id = pcall(redis.call, 'XADD', KEYS[1], ARGV[6] .. '-*', unpack(fields))
if not ok then id = redis.call('XADD', KEYS[1], '*', unpack(fields)) end
local member = ARGV[1] .. ' ' .. id
local ms = string.match(id, '^(%d+)')
for i = 3, #KEYS do redis.call('ZADD', KEYS[i], ms, member) end
redis.call('SADD', KEYS[2], ARGV[1])
return id
"""


class RepositoryError(Exception):
    """Redis cannot be reached or refused a command."""


def tokens_of(text: str) -> list[str]:
    """Search words of a text: upper-cased runs of ASCII letters and digits, deduplicated."""
    return list(dict.fromkeys(_TOKEN.findall(text.upper())))


def stream_key(camera: str) -> str:
    return STREAM_PREFIX + camera


def connect(url: str, timeout_s: float) -> redis.Redis:
    """A client that fails fast: callers own their retry loops, so redis-py must not retry."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


class Repository:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._append = client.register_script(_APPEND_SCRIPT)

    @classmethod
    def from_url(cls, url: str, timeout_s: float = 2.0) -> Repository:
        return cls(connect(url, timeout_s))

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    # -- writes ---------------------------------------------------------------------------

    def append_many(self, records: Sequence[TextRecord]) -> list[str]:
        """Store records in order, all or none (one MULTI/EXEC); return their entry ids."""
        try:
            with self.client.pipeline(transaction=True) as pipe:
                for record in records:
                    keys = [stream_key(record.camera), CAMERAS_KEY]
                    keys += [TOKEN_PREFIX + token for token in tokens_of(record.text)]
                    args = [
                        record.camera, repr(record.time), record.frame, record.text,
                        f"{record.confidence:.1f}", int(record.time * 1000),
                    ]
                    self._append(keys=keys, args=args, client=pipe)
                return pipe.execute()
        except redis.RedisError as error:
            raise RepositoryError(str(error)) from error

    def apply_retention(self, retention_s: float, now: float) -> dict[str, int]:
        """Delete entries captured more than `retention_s` seconds before `now`."""
        cutoff_ms = int((now - retention_s) * 1000)
        trimmed_entries = 0
        trimmed_index = 0
        try:
            for camera in self.cameras():
                key = stream_key(camera)
                trimmed_entries += self.client.xtrim(key, minid=cutoff_ms, approximate=False)
            for key in self.client.scan_iter(match=TOKEN_PREFIX + "*", count=500):
                trimmed_index += self.client.zremrangebyscore(key, "-inf", f"({cutoff_ms}")
        except redis.RedisError as error:
            raise RepositoryError(str(error)) from error
        return {"entries": trimmed_entries, "index_entries": trimmed_index}

    # -- reads ----------------------------------------------------------------------------

    def cameras(self) -> list[str]:
        try:
            return sorted(self.client.smembers(CAMERAS_KEY))
        except redis.RedisError as error:
            raise RepositoryError(str(error)) from error

    def latest(self) -> list[TextRecord]:
        """The newest record of every camera, ordered by camera id."""
        cameras = self.cameras()
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for camera in cameras:
                    pipe.xrevrange(stream_key(camera), count=1)
                replies = pipe.execute()
        except redis.RedisError as error:
            raise RepositoryError(str(error)) from error
        return [_record(camera, *entries[0]) for camera, entries in zip(cameras, replies) if entries]

    def query(
        self, camera: str | None = None, since: float | None = None, q: str = "", limit: int = 100,
        max_scan: int = 10_000,
    ) -> list[TextRecord]:
        """Records newest first, captured at or after `since`, whose words include all of `q`'s.

        At most `max_scan` candidate entries are examined, which bounds the cost of one query.
        """
        since_ms = 0 if since is None else max(0, int(since * 1000))
        words = tokens_of(q)
        try:
            if words:
                return self._search(words, camera, since_ms, limit, max_scan)
            cameras = [camera] if camera else self.cameras()
            found: list[TextRecord] = []
            for name in cameras:
                entries = self.client.xrevrange(stream_key(name), "+", since_ms, count=limit)
                found += [_record(name, *entry) for entry in entries]
        except redis.RedisError as error:
            raise RepositoryError(str(error)) from error
        return sorted(found, key=_newest_first)[:limit]

    def _search(self, words: list[str], camera: str | None, since_ms: int, limit: int, max_scan: int):
        # Candidates come from the rarest word's index; each is checked against the stored text.
        keys = [TOKEN_PREFIX + word for word in words]
        with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zcard(key)
            sizes = pipe.execute()
        if 0 in sizes:
            return []
        rarest = keys[sizes.index(min(sizes))]
        found: list[TextRecord] = []
        scanned = 0
        page = max(limit, 100)
        while len(found) < limit and scanned < max_scan:
            members = self.client.zrevrangebyscore(rarest, "+inf", since_ms, start=scanned, num=page)
            if not members:
                break
            scanned += len(members)
            candidates = [member.split(" ", 1) for member in members]
            candidates = [(c, entry_id) for c, entry_id in candidates if not camera or c == camera]
            with self.client.pipeline(transaction=False) as pipe:
                for member_camera, entry_id in candidates:
                    pipe.xrange(stream_key(member_camera), entry_id, entry_id, count=1)
                replies = pipe.execute()
            for (member_camera, _), entries in zip(candidates, replies):
                if entries:  # gone if retention trimmed the stream first
                    record = _record(member_camera, *entries[0])
                    if set(words) <= set(tokens_of(record.text)):
                        found.append(record)
        return sorted(found, key=_newest_first)[:limit]

    def follow(self, cursors: dict[str, str], block_ms: int) -> list[TextRecord]:
        """Records stored after each camera's cursor, waiting up to `block_ms`; advances cursors.

        Cameras that first appear while following are added with cursor `0` (all their entries).
        """
        try:
            for camera in self.cameras():
                cursors.setdefault(camera, "0")
            if not cursors:
                return []
            reply = self.client.xread({stream_key(c): i for c, i in cursors.items()}, block=block_ms)
        except redis.RedisError as error:
            raise RepositoryError(str(error)) from error
        records = []
        for key, entries in reply or []:
            camera = key.removeprefix(STREAM_PREFIX)
            records += [_record(camera, *entry) for entry in entries]
            if entries:
                cursors[camera] = entries[-1][0]
        return records

    def cursors_at_end(self) -> dict[str, str]:
        """Each camera's newest entry id: following from here yields only new records."""
        return {record.camera: record.id for record in self.latest() if record.id}


def _record(camera: str, entry_id: str, fields: dict[str, str]) -> TextRecord:
    return TextRecord(
        camera=camera,
        time=float(fields["time"]),
        frame=int(fields["frame"]),
        text=fields["text"],
        confidence=float(fields["confidence"]),
        id=entry_id,
    )


def _newest_first(record: TextRecord) -> tuple[int, int]:
    ms, seq = (record.id or "0-0").split("-")
    return (-int(ms), -int(seq))

