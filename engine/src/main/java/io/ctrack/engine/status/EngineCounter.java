package io.ctrack.engine.status;

/**
 * Everything a connection table and its packet thread count. Ids are stable: they index the counters buffer
 * and appear in stats output. Every reason for an {@code inv} verdict has its own counter.
 */
public enum EngineCounter
{
    PACKETS(0, "packets tracked"),
    INVALID_NOT_IP(1, "invalid: not IPv4/IPv6 or no complete L2/L3 header"),
    INVALID_L3_HEADER(2, "invalid: malformed IP header"),
    INVALID_L3_CHECKSUM(3, "invalid: bad IPv4 header checksum"),
    INVALID_L4_HEADER(4, "invalid: malformed or truncated L4 header, or port 0"),
    INVALID_L4_CHECKSUM(5, "invalid: bad L4 checksum"),
    INVALID_ICMP(6, "invalid: unsupported ICMP type/code or unusable quoted packet"),
    INVALID_FRAGMENT(7, "invalid: fragment that reached tracking unreassembled"),
    INVALID_TCP_FLAGS(8, "invalid: illegal TCP flag combination"),
    INVALID_TCP_WINDOW(9, "invalid: TCP segment outside the tracked window"),
    INVALID_NEW(10, "invalid: packet cannot start a connection"),
    INVALID_RELATED_UNKNOWN(11, "invalid: ICMP error quoting no known connection"),
    FRAG_HELD(12, "fragments held for reassembly"),
    FRAG_REASSEMBLED(13, "datagrams reassembled"),
    FRAG_INVALID(14, "fragments refused: too small, overlapping or bad header"),
    FRAG_EXPIRED(15, "held fragments dropped: datagram incomplete at timeout"),
    FRAG_TABLE_FULL(16, "fragments not held: fragment memory full"),
    CONN_CREATED(17, "connections committed"),
    CONN_EXPIRED(18, "connections removed after expiry"),
    CONN_FLUSHED(19, "connections removed by flush"),
    COMMIT_REFUSED_ZONE_LIMIT(20, "commits refused: zone limit reached"),
    COMMIT_REFUSED_TABLE_FULL(21, "commits refused: connection limit reached"),
    NAT_EXHAUSTED(22, "commits refused: no free NAT tuple"),
    CONN_REPLACED(23, "connections replaced by a new SYN after close, or restarted by force"),
    DROPPED_BACK_PRESSURE(24, "dropped: bucket stream back-pressured past the publish timeout"),
    DROPPED_VERDICT_TIMEOUT(25, "dropped: no verdict within the verdict timeout"),
    DROPPED_BUCKET_FAILURE(26, "dropped: the bucket failed while tracking the packet"),
    DROPPED_NO_WORKER(27, "dropped: verdicts for a worker that is gone"),
    DROPPED_BAD_BATCH(28, "dropped: batch with an unknown wire version"),
    VERDICT_BACK_PRESSURE(29, "bucket polls that found a worker's verdict stream full (batch left and retried)"),
    PUBLISH_RETRIES(30, "batch publications retried after back-pressure"),
    REQUESTS(31, "requests tracked by buckets"),
    SWEEP_STEPS(32, "sweep steps"),
    SWEEP_STEPS_AT_BUDGET(33, "sweep steps that used their whole budget"),
    SWEEP_EXAMINED(34, "connections examined by sweeps"),
    SWEEP_NANOS(35, "nanoseconds spent in sweep steps"),
    NAT_CONNS(36, "translated connections committed"),
    NAT_TRIES(37, "candidate reply tuples examined by NAT searches"),
    NAT_RESERVATIONS(38, "reply tuples reserved in another bucket"),
    NAT_RESERVATIONS_TAKEN(39, "reservations refused by another bucket: tuple taken"),
    NAT_FORWARDED(40, "reply-direction packets forwarded to their connection's owner bucket"),
    NAT_HELD(41, "packets held while their connection's reservation was in flight"),
    DROPPED_NAT_HELD_FULL(42, "dropped: too many packets held for NAT reservations"),
    NAT_STALE_FORWARD(43, "forwarded packets whose connection was gone, tracked again in their own bucket"),
    NAT_NOT_REWRITTEN(44, "translated packets not rewritten: IP fragments"),
    NAT_UNAVAILABLE(45, "dropped: NAT needed another bucket and the node has no NAT protocol"),
    NAT_RESERVATION_TIMEOUT(46, "translated connections abandoned: their reservation got no answer in time"),
    PIPELINE_SHARES_TOO_LARGE(47, "single-pass packets sent as a plain ct: their bucket's share of the run exceeded one message");

    private static final EngineCounter[] BY_ID = values();

    private final int id;
    private final String label;

    EngineCounter(final int id, final String label)
    {
        this.id = id;
        this.label = label;
    }

    public int id()
    {
        return id;
    }

    public String label()
    {
        return label;
    }

    public static EngineCounter byId(final int id)
    {
        return BY_ID[id];
    }

    public static int count()
    {
        return BY_ID.length;
    }
}
