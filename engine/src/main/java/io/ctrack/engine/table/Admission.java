package io.ctrack.engine.table;

/**
 * Decides whether a connection may be committed: the global connection limit and per-zone limits, with the
 * counts they are checked against. A table asks before it creates a connection and reports every removal.
 * The embedded engine uses {@link LocalLimits}; a sharded node shares one lock-free implementation between
 * its buckets.
 */
public interface Admission
{
    /** Admitted. */
    int ADMITTED = -1;

    /**
     * Reserves room for one connection in {@code zone}.
     *
     * @return {@link #ADMITTED}, or the {@link io.ctrack.engine.status.EngineCounter} id of the refusal.
     */
    int tryAdmit(int zone);

    /** A connection admitted in {@code zone} is gone. */
    void release(int zone);

    /** Checks a zone number (0-65535) of a limit command; throws with the reason otherwise. */
    static int checkZone(final int zone)
    {
        if (zone < 0 || zone > 0xFFFF)
        {
            throw new IllegalArgumentException("zone must be 0-65535, got " + zone);
        }
        return zone;
    }

    /** Checks a zone limit ({@code what} names it in the message): 0 (unlimited) or more. */
    static int checkLimit(final String what, final int limit)
    {
        if (limit < 0)
        {
            throw new IllegalArgumentException(what + " must be >= 0 (0 = unlimited), got " + limit);
        }
        return limit;
    }

    /** Checks a global connection limit: 0-4294967295, as Open vSwitch's {@code ct-set-maxconns} takes it. */
    static long checkMaxConns(final long maxConns)
    {
        if (maxConns < 0 || maxConns > 0xFFFF_FFFFL)
        {
            throw new IllegalArgumentException("maxconns must be 0-4294967295, got " + maxConns);
        }
        return maxConns;
    }
}
