// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Resource Exchange Broker (REB) of the DECENTER Brokerage Platform
/// @notice Fog providers offer whole nodes; buyers reserve them with escrow; sellers accept by
/// amending the reservation with access details. Funds leave only through `withdraw`.
/// @dev Storage holds only what the contract itself checks: numbers, states and a hash of each
/// offer's terms. The descriptive strings (node id, region, devices, ...), the buyer's key and the
/// access details travel in events, from which clients build their market index; every view
/// returns fixed-size records, so a page's gas is linear and bounded whatever the market's size.
/// Secrets never go on chain: the buyer publishes only its provisioning Ed25519 public key and
/// the seller only an access endpoint and the SHA-256 fingerprint of the node's SSH host key.
contract ResourceExchangeBroker {
    enum OfferState { None, Open, Reserved, Withdrawn }
    enum ReservationState { None, Requested, Accepted, Rejected, Cancelled, Expired, Released, Settled }

    /// @notice What a seller declares about a node (FogAtlas DynamicNode/Region names).
    struct OfferSpec {
        string nodeId;
        string region;
        uint8 tier;
        string location;       // "lat,lon"
        uint32 cpuMillicores;
        uint32 memoryMiB;
        uint32 storageGiB;
        string architecture;   // e.g. "amd64"
        string devices;        // comma separated "id:kind", e.g. "camkor1:camera"
        uint96 pricePerHour;   // wei
        uint16 minHours;
        uint16 maxHours;
        uint40 availableFrom;  // unix seconds
        uint40 availableUntil; // unix seconds
    }

    /// @dev Three storage slots: seller+price, every number and state, the terms hash.
    struct Offer {
        address seller;
        uint96 pricePerHour;
        OfferState state;
        uint8 tier;
        uint32 cpuMillicores;
        uint32 memoryMiB;
        uint32 storageGiB;
        uint16 minHours;
        uint16 maxHours;
        uint40 availableFrom;
        uint40 availableUntil;
        uint32 activeReservation;
        bytes32 termsHash;     // keccak256(abi.encode(spec)) of the current terms
    }

    /// @dev Two storage slots. The buyer's key and the access details are in the events
    /// ReservationRequested and ReservationAccepted (from `requestedBlock` on).
    struct Reservation {
        address buyer;
        uint32 offerId;
        uint16 hoursBooked;
        ReservationState state;
        uint40 requestedBlock;
        uint128 escrow;
        uint40 requestedAt;
        uint40 acceptedAt;
        uint40 endsAt;
    }

    /// @notice Most records one paged view returns: a full page of offers by id needs ~3M gas.
    uint256 public constant MAX_PAGE = 300;
    /// @notice Longest provider name, node id, region, location or architecture (bytes).
    uint256 public constant MAX_NAME = 64;
    /// @notice Longest device list and access endpoint (bytes).
    uint256 public constant MAX_TEXT = 256;
    /// @notice Bounds of the accept window (seconds).
    uint256 public constant MIN_ACCEPT_WINDOW = 60;
    uint256 public constant MAX_ACCEPT_WINDOW = 30 days;

    /// @notice Seconds a seller has to answer a request before anyone may expire it.
    uint256 public immutable acceptWindow;

    mapping(address => string) private _providerNames; // registered <=> name not empty
    // Ids count from 1. The counters hold the next id and start at 1 in the constructor, so the
    // first offer and reservation pay a non-zero -> non-zero store (5k gas), not a zero -> non-zero one.
    mapping(uint256 => Offer) private _offers;
    mapping(uint256 => Reservation) private _reservations;
    uint256 private _nextOfferId;
    uint256 private _nextReservationId;
    mapping(address => mapping(bytes32 => uint256)) private _offerOfNode; // may point at a withdrawn offer
    mapping(address => mapping(bytes32 => uint256)) private _orders; // buyer => order reference => reservation
    mapping(address => uint256) private _owed;
    bool private transient _locked;

    event ProviderRegistered(address indexed provider, string name);
    event OfferPublished(uint256 indexed offerId, address indexed seller, string nodeId, OfferSpec terms, bytes32 termsHash);
    event OfferUpdated(uint256 indexed offerId, OfferSpec terms, bytes32 termsHash);
    event OfferWithdrawn(uint256 indexed offerId);
    event ReservationRequested(uint256 indexed reservationId, uint256 indexed offerId, address indexed buyer, uint256 hoursBooked, uint256 escrow, bytes32 buyerKey, bytes32 termsHash, bytes32 orderRef);
    event ReservationAccepted(uint256 indexed reservationId, string accessEndpoint, bytes32 hostKeyFingerprint);
    event ReservationRejected(uint256 indexed reservationId, string reason);
    event ReservationCancelled(uint256 indexed reservationId);
    event ReservationExpired(uint256 indexed reservationId);
    event ReservationReleased(uint256 indexed reservationId, uint256 toSeller, uint256 toBuyer);
    event ReservationSettled(uint256 indexed reservationId, uint256 toSeller);
    event Withdrawn(address indexed account, uint256 amount);

    error EmptyName();
    error TooLong(string field, uint256 length, uint256 maximum);
    error InvalidAcceptWindow(uint256 acceptWindow, uint256 minimum, uint256 maximum);
    error NotRegistered(address account);
    error InvalidOffer(string field);
    error NodeIdTaken(string nodeId, uint256 offerId);
    error NodeIdImmutable(uint256 offerId);
    error OfferNotFound(uint256 offerId);
    error NotSeller(uint256 offerId, address caller);
    error OfferNotOpen(uint256 offerId, OfferState state);
    error TermsChanged(uint256 offerId, bytes32 expected, bytes32 current);
    error OrderExists(bytes32 orderRef, uint256 reservationId);
    error SelfDealing(uint256 offerId);
    error HoursOutOfRange(uint256 hoursBooked, uint256 minHours, uint256 maxHours);
    error OutsideAvailability(uint256 offerId, uint256 availableFrom, uint256 availableUntil);
    error WrongPayment(uint256 expected, uint256 sent);
    error EmptyKey();
    error EmptyEndpoint();
    error ReservationNotFound(uint256 reservationId);
    error NotBuyer(uint256 reservationId, address caller);
    error NotReservationSeller(uint256 reservationId, address caller);
    error WrongReservationState(uint256 reservationId, ReservationState state);
    error AcceptDeadlinePassed(uint256 reservationId, uint256 deadline);
    error AcceptDeadlineNotPassed(uint256 reservationId, uint256 deadline);
    error NotEnded(uint256 reservationId, uint256 endsAt);
    error NothingToWithdraw(address account);
    error TransferFailed(address account, uint256 amount);
    error Reentrancy();
    error PageTooLarge(uint256 requested, uint256 maximum);

    modifier nonReentrant() {
        if (_locked) revert Reentrancy();
        _locked = true;
        _;
        _locked = false;
    }

    /// @param acceptWindow_ seconds a seller has to accept or reject a request
    /// (MIN_ACCEPT_WINDOW .. MAX_ACCEPT_WINDOW: 0 would allow answers only in the request's
    /// own block, a huge value would overflow every deadline)
    constructor(uint256 acceptWindow_) {
        if (acceptWindow_ < MIN_ACCEPT_WINDOW || acceptWindow_ > MAX_ACCEPT_WINDOW) {
            revert InvalidAcceptWindow(acceptWindow_, MIN_ACCEPT_WINDOW, MAX_ACCEPT_WINDOW);
        }
        acceptWindow = acceptWindow_;
        _nextOfferId = 1;
        _nextReservationId = 1;
    }

    // ----------------------------------------------------------------- providers

    /// @notice Register the caller as a provider, or rename it.
    /// @param name human readable provider name, e.g. "Provider B (KETI)"
    function registerProvider(string calldata name) external {
        if (bytes(name).length == 0) revert EmptyName();
        _capped("name", name, MAX_NAME);
        _providerNames[msg.sender] = name;
        emit ProviderRegistered(msg.sender, name);
    }

    // -------------------------------------------------------------------- offers

    /// @notice Offer a whole node. The node id must be unique among the caller's live offers.
    /// @return offerId id of the new offer
    function publishOffer(OfferSpec calldata spec) external returns (uint256 offerId) {
        if (bytes(_providerNames[msg.sender]).length == 0) revert NotRegistered(msg.sender);
        _validate(spec);
        bytes32 key = keccak256(bytes(spec.nodeId));
        uint256 existing = _offerOfNode[msg.sender][key];
        if (existing != 0 && _offers[existing].state != OfferState.Withdrawn) {
            revert NodeIdTaken(spec.nodeId, existing);
        }
        offerId = _nextOfferId++;
        Offer storage o = _offers[offerId];
        o.seller = msg.sender;
        o.state = OfferState.Open;
        bytes32 terms = _write(o, spec);
        _offerOfNode[msg.sender][key] = offerId;
        emit OfferPublished(offerId, msg.sender, spec.nodeId, spec, terms);
    }

    /// @notice Change an open offer in place; only its seller may, and not while reserved.
    function updateOffer(uint256 offerId, OfferSpec calldata spec) external {
        Offer storage o = _sellersOffer(offerId);
        if (o.state != OfferState.Open) revert OfferNotOpen(offerId, o.state);
        _validate(spec);
        if (_offerOfNode[msg.sender][keccak256(bytes(spec.nodeId))] != offerId) revert NodeIdImmutable(offerId);
        emit OfferUpdated(offerId, spec, _write(o, spec));
    }

    /// @notice Take an offer off the market; its node id becomes free again. A request that
    /// waits for an answer is rejected (the buyer refunded in full) in the same transaction,
    /// so nobody can keep an offer listed by re-reserving it. An accepted rental must end first.
    function withdrawOffer(uint256 offerId) external {
        Offer storage o = _sellersOffer(offerId);
        if (o.state == OfferState.Reserved) {
            uint256 reservationId = o.activeReservation;
            Reservation storage r = _reservations[reservationId];
            if (r.state != ReservationState.Requested) revert OfferNotOpen(offerId, o.state);
            _close(r, ReservationState.Rejected, 0);
            emit ReservationRejected(reservationId, "offer withdrawn");
        } else if (o.state != OfferState.Open) {
            revert OfferNotOpen(offerId, o.state);
        }
        o.state = OfferState.Withdrawn;
        emit OfferWithdrawn(offerId);
    }

    // -------------------------------------------------------------- reservations

    /// @notice Reserve an open offer for `hoursBooked` hours, paying price x hours into escrow.
    /// @param buyerKey Ed25519 public key (32 bytes) the seller grants SSH access to
    /// @param termsHash the offer's terms hash as the buyer saw them: any change since reverts
    /// @param orderRef the buyer's own reference of this order (non-zero): a second reserve with
    /// the same reference reverts, so a rerun of one order never pays twice
    function reserve(uint256 offerId, uint256 hoursBooked, bytes32 buyerKey, bytes32 termsHash, bytes32 orderRef)
        external
        payable
        returns (uint256 reservationId)
    {
        Offer storage o = _offer(offerId);
        if (o.state != OfferState.Open) revert OfferNotOpen(offerId, o.state);
        if (o.termsHash != termsHash) revert TermsChanged(offerId, termsHash, o.termsHash);
        if (o.seller == msg.sender) revert SelfDealing(offerId);
        if (hoursBooked < o.minHours || hoursBooked > o.maxHours) {
            revert HoursOutOfRange(hoursBooked, o.minHours, o.maxHours);
        }
        if (block.timestamp < o.availableFrom || block.timestamp + hoursBooked * 1 hours > o.availableUntil) {
            revert OutsideAvailability(offerId, o.availableFrom, o.availableUntil);
        }
        uint256 price = uint256(o.pricePerHour) * hoursBooked;
        if (msg.value != price) revert WrongPayment(price, msg.value);
        if (buyerKey == bytes32(0) || orderRef == bytes32(0)) revert EmptyKey();
        uint256 earlier = _orders[msg.sender][orderRef];
        if (earlier != 0) revert OrderExists(orderRef, earlier);

        reservationId = _nextReservationId++;
        Reservation storage r = _reservations[reservationId];
        r.buyer = msg.sender;
        r.offerId = uint32(offerId);
        r.hoursBooked = uint16(hoursBooked);
        r.state = ReservationState.Requested;
        r.requestedBlock = uint40(block.number);
        r.escrow = uint128(price);
        r.requestedAt = uint40(block.timestamp);
        _orders[msg.sender][orderRef] = reservationId;
        o.state = OfferState.Reserved;
        o.activeReservation = uint32(reservationId);
        emit ReservationRequested(reservationId, offerId, msg.sender, hoursBooked, price, buyerKey, termsHash, orderRef);
    }

    /// @notice Seller accepts a request within the accept window and tells the buyer how to connect.
    /// @param accessEndpoint "host:port" of the node's SSH server (at most MAX_TEXT bytes)
    /// @param hostKeyFingerprint SHA-256 digest of the node's SSH host public key
    function accept(uint256 reservationId, string calldata accessEndpoint, bytes32 hostKeyFingerprint) external {
        Reservation storage r = _sellersRequest(reservationId);
        uint256 deadline = uint256(r.requestedAt) + acceptWindow;
        if (block.timestamp > deadline) revert AcceptDeadlinePassed(reservationId, deadline);
        if (bytes(accessEndpoint).length == 0) revert EmptyEndpoint();
        _capped("accessEndpoint", accessEndpoint, MAX_TEXT);
        if (hostKeyFingerprint == bytes32(0)) revert EmptyKey();
        r.state = ReservationState.Accepted;
        r.acceptedAt = uint40(block.timestamp);
        r.endsAt = uint40(block.timestamp + uint256(r.hoursBooked) * 1 hours);
        emit ReservationAccepted(reservationId, accessEndpoint, hostKeyFingerprint);
    }

    /// @notice Seller declines a request; the buyer is refunded in full.
    /// @param reason why, for the buyer (at most MAX_TEXT bytes; only in the event, never stored)
    function reject(uint256 reservationId, string calldata reason) external {
        Reservation storage r = _sellersRequest(reservationId);
        _capped("reason", reason, MAX_TEXT);
        _close(r, ReservationState.Rejected, 0);
        emit ReservationRejected(reservationId, reason);
    }

    /// @notice Buyer withdraws its request before the seller answered; refunded in full.
    function cancel(uint256 reservationId) external {
        Reservation storage r = _buyersReservation(reservationId, ReservationState.Requested);
        _close(r, ReservationState.Cancelled, 0);
        emit ReservationCancelled(reservationId);
    }

    /// @notice Anyone may expire a request the seller left unanswered past the accept window.
    function expire(uint256 reservationId) external {
        Reservation storage r = _reservation(reservationId);
        if (r.state != ReservationState.Requested) revert WrongReservationState(reservationId, r.state);
        uint256 deadline = uint256(r.requestedAt) + acceptWindow;
        if (block.timestamp <= deadline) revert AcceptDeadlineNotPassed(reservationId, deadline);
        _close(r, ReservationState.Expired, 0);
        emit ReservationExpired(reservationId);
    }

    /// @notice Buyer ends an accepted reservation: the seller is owed the time used, the buyer the rest.
    function release(uint256 reservationId) external {
        Reservation storage r = _buyersReservation(reservationId, ReservationState.Accepted);
        uint256 used = block.timestamp >= r.endsAt ? r.escrow : _timeShare(r);
        _close(r, ReservationState.Released, used);
        emit ReservationReleased(reservationId, used, r.escrow - used);
    }

    /// @notice After the booked time ended anyone may settle: the seller is owed the whole escrow.
    function settle(uint256 reservationId) external {
        Reservation storage r = _reservation(reservationId);
        if (r.state != ReservationState.Accepted) revert WrongReservationState(reservationId, r.state);
        if (block.timestamp < r.endsAt) revert NotEnded(reservationId, r.endsAt);
        _close(r, ReservationState.Settled, r.escrow);
        emit ReservationSettled(reservationId, r.escrow);
    }

    /// @notice Pull everything the caller is owed.
    function withdraw() external nonReentrant {
        uint256 amount = _owed[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _owed[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    // --------------------------------------------------------------------- views

    /// @notice Registered name of `account` ("" and false when not registered).
    function providerOf(address account) external view returns (string memory name, bool registered) {
        name = _providerNames[account];
        registered = bytes(name).length != 0;
    }

    /// @notice Number of offers ever published (ids run from 1 to this).
    function offerCount() external view returns (uint256) {
        return _nextOfferId - 1;
    }

    /// @notice One offer by id (its strings are in its latest OfferPublished/OfferUpdated event).
    function getOffer(uint256 offerId) external view returns (Offer memory) {
        return _offer(offerId);
    }

    /// @notice Offers with ids `firstId` .. `firstId + count - 1` (clipped to the existing ones).
    function getOffers(uint256 firstId, uint256 count) external view returns (Offer[] memory page) {
        (uint256 start, uint256 n) = _page(firstId, count, _nextOfferId - 1);
        page = new Offer[](n);
        for (uint256 i = 0; i < n; i++) page[i] = _offers[start + i];
    }

    /// @notice The offers with these ids (at most MAX_PAGE; each id must exist).
    function getOffersById(uint256[] calldata offerIds) external view returns (Offer[] memory page) {
        if (offerIds.length > MAX_PAGE) revert PageTooLarge(offerIds.length, MAX_PAGE);
        page = new Offer[](offerIds.length);
        for (uint256 i = 0; i < offerIds.length; i++) page[i] = _offer(offerIds[i]);
    }

    /// @notice Live offer id of `seller`'s node `nodeId`, 0 if none.
    function offerIdOf(address seller, string calldata nodeId) external view returns (uint256 offerId) {
        offerId = _offerOfNode[seller][keccak256(bytes(nodeId))];
        if (offerId != 0 && _offers[offerId].state == OfferState.Withdrawn) offerId = 0;
    }

    /// @notice Number of reservations ever requested (ids run from 1 to this).
    function reservationCount() external view returns (uint256) {
        return _nextReservationId - 1;
    }

    /// @notice One reservation by id.
    function getReservation(uint256 reservationId) external view returns (Reservation memory) {
        return _reservation(reservationId);
    }

    /// @notice Reservations with ids `firstId` .. `firstId + count - 1` (clipped to the existing ones).
    function getReservations(uint256 firstId, uint256 count) external view returns (Reservation[] memory page) {
        (uint256 start, uint256 n) = _page(firstId, count, _nextReservationId - 1);
        page = new Reservation[](n);
        for (uint256 i = 0; i < n; i++) page[i] = _reservations[start + i];
    }

    /// @notice The reservations with these ids (at most MAX_PAGE; each id must exist).
    function getReservationsById(uint256[] calldata reservationIds) external view returns (Reservation[] memory page) {
        if (reservationIds.length > MAX_PAGE) revert PageTooLarge(reservationIds.length, MAX_PAGE);
        page = new Reservation[](reservationIds.length);
        for (uint256 i = 0; i < reservationIds.length; i++) page[i] = _reservation(reservationIds[i]);
    }

    /// @notice Reservation that `buyer` made with order reference `orderRef`, 0 if none.
    function reservationOfOrder(address buyer, bytes32 orderRef) external view returns (uint256) {
        return _orders[buyer][orderRef];
    }

    /// @notice Wei `account` may withdraw now.
    function owed(address account) external view returns (uint256) {
        return _owed[account];
    }

    // ------------------------------------------------------------------ internals

    function _validate(OfferSpec calldata s) private pure {
        if (bytes(s.nodeId).length == 0) revert InvalidOffer("nodeId");
        if (bytes(s.region).length == 0) revert InvalidOffer("region");
        _capped("nodeId", s.nodeId, MAX_NAME);
        _capped("region", s.region, MAX_NAME);
        _capped("location", s.location, MAX_NAME);
        _capped("architecture", s.architecture, MAX_NAME);
        _capped("devices", s.devices, MAX_TEXT);
        if (s.cpuMillicores == 0) revert InvalidOffer("cpuMillicores");
        if (s.memoryMiB == 0) revert InvalidOffer("memoryMiB");
        if (s.pricePerHour == 0) revert InvalidOffer("pricePerHour");
        if (s.minHours == 0 || s.maxHours < s.minHours) revert InvalidOffer("hours");
        if (s.availableUntil <= s.availableFrom) revert InvalidOffer("availability");
    }

    function _capped(string memory field, string calldata value, uint256 maximum) private pure {
        if (bytes(value).length > maximum) revert TooLong(field, bytes(value).length, maximum);
    }

    /// @dev Stores the numbers the contract checks and the hash of all terms; returns the hash.
    function _write(Offer storage o, OfferSpec calldata s) private returns (bytes32 terms) {
        terms = keccak256(abi.encode(s));
        o.pricePerHour = s.pricePerHour;
        o.tier = s.tier;
        o.cpuMillicores = s.cpuMillicores;
        o.memoryMiB = s.memoryMiB;
        o.storageGiB = s.storageGiB;
        o.minHours = s.minHours;
        o.maxHours = s.maxHours;
        o.availableFrom = s.availableFrom;
        o.availableUntil = s.availableUntil;
        o.termsHash = terms;
    }

    function _offer(uint256 offerId) private view returns (Offer storage) {
        if (offerId == 0 || offerId >= _nextOfferId) revert OfferNotFound(offerId);
        return _offers[offerId];
    }

    function _sellersOffer(uint256 offerId) private view returns (Offer storage o) {
        o = _offer(offerId);
        if (o.seller != msg.sender) revert NotSeller(offerId, msg.sender);
    }

    function _reservation(uint256 reservationId) private view returns (Reservation storage) {
        if (reservationId == 0 || reservationId >= _nextReservationId) revert ReservationNotFound(reservationId);
        return _reservations[reservationId];
    }

    function _buyersReservation(uint256 reservationId, ReservationState expected)
        private
        view
        returns (Reservation storage r)
    {
        r = _reservation(reservationId);
        if (r.buyer != msg.sender) revert NotBuyer(reservationId, msg.sender);
        if (r.state != expected) revert WrongReservationState(reservationId, r.state);
    }

    function _sellersRequest(uint256 reservationId) private view returns (Reservation storage r) {
        r = _reservation(reservationId);
        if (_offers[r.offerId].seller != msg.sender) revert NotReservationSeller(reservationId, msg.sender);
        if (r.state != ReservationState.Requested) revert WrongReservationState(reservationId, r.state);
    }

    /// @dev Seller's pro-rata share of the escrow for the seconds used so far (rounded down).
    function _timeShare(Reservation storage r) private view returns (uint256) {
        uint256 duration = uint256(r.endsAt) - r.acceptedAt;
        return (uint256(r.escrow) * (block.timestamp - r.acceptedAt)) / duration;
    }

    /// @dev Ends a reservation: credits `toSeller` to the seller and the rest to the buyer and
    /// reopens the offer.
    function _close(Reservation storage r, ReservationState finalState, uint256 toSeller) private {
        Offer storage o = _offers[r.offerId];
        uint256 toBuyer = r.escrow - toSeller;
        r.state = finalState;
        if (toSeller > 0) _owed[o.seller] += toSeller;
        if (toBuyer > 0) _owed[r.buyer] += toBuyer;
        o.state = OfferState.Open;
        o.activeReservation = 0;
    }

    function _page(uint256 firstId, uint256 count, uint256 total) private pure returns (uint256 start, uint256 n) {
        if (count > MAX_PAGE) revert PageTooLarge(count, MAX_PAGE);
        if (firstId == 0) firstId = 1;
        if (firstId > total) return (0, 0);
        start = firstId;
        n = total - start + 1 < count ? total - start + 1 : count;
    }
}
