"""IP-camera stand-in: draws changing lines of text (or loops a video) and serves MJPEG over HTTP."""
