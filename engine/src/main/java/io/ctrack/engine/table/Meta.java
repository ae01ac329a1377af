package io.ctrack.engine.table;

/**
 * Bit layout of an entry's META word: protocol, zone, NAT action (Open vSwitch's bits), flags, the small state of
 * non-TCP connections and the timeout policy id. Bit 63 marks a live entry, so a live entry's META is never zero.
 */
final class Meta
{
    static final int ZONE_SHIFT = 8;
    static final int NAT_SHIFT = 24;
    static final long HAS_REPLY_KEY = 1L << 28;
    /** A translated connection whose reply tuple is being reserved in another bucket: packets wait. */
    static final long PENDING = 1L << 29;
    /** The reply key is indexed in another bucket (an alias there forwards to this entry). */
    static final long REMOTE_REPLY = 1L << 30;
    /** Not a connection: an alias for another bucket's connection whose reply key hashes here. */
    static final long ALIAS = 1L << 31;
    static final int SMALL_STATE_SHIFT = 32;
    static final int POLICY_SHIFT = 40;
    static final long LIVE = 1L << 63;

    private Meta()
    {
    }

    static long of(final int proto, final int zone, final int policy)
    {
        return LIVE | (proto & 0xFF) | ((long)(zone & 0xFFFF) << ZONE_SHIFT) | ((long)(policy & 0xFFFF) << POLICY_SHIFT);
    }

    /** Protocol and zone together, for key comparison. */
    static int protoZone(final long meta)
    {
        return (int)(meta & 0xFF_FFFF);
    }

    static int protoZone(final int proto, final int zone)
    {
        return (proto & 0xFF) | (zone << ZONE_SHIFT);
    }

    static int proto(final long meta)
    {
        return (int)(meta & 0xFF);
    }

    static int zone(final long meta)
    {
        return (int)(meta >>> ZONE_SHIFT) & 0xFFFF;
    }

    /** Open vSwitch's NAT action bits of the connection (0: not translated). */
    static int natAction(final long meta)
    {
        return (int)(meta >>> NAT_SHIFT) & 0xF;
    }

    static int policy(final long meta)
    {
        return (int)(meta >>> POLICY_SHIFT) & 0xFFFF;
    }
}
