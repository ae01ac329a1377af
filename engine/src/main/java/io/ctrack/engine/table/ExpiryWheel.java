package io.ctrack.engine.table;

/**
 * Finds expired connections without walking live ones: a hashed timing wheel of {@code slots} slots of
 * {@code slotMs} each. An entry sits in the slot of a time no later than its expiration. Refreshing a
 * connection only writes its expiration (O(1), no list moves: the slot stays a lower bound); only an expiration
 * that moves earlier (a shorter timeout class or policy) moves the entry. The sweeper takes each slot once it
 * has fully passed: expired entries are removed, refreshed ones move to the slot of their new expiration. An
 * entry is therefore removed at most one slot (plus the sweep period) after it expires, and a refreshed entry
 * is visited about once per timeout (or once per revolution for timeouts longer than a revolution).
 */
final class ExpiryWheel
{
    private final Links links;
    private final long slotMs;
    private final int mask;
    private final int[] heads;
    private final int[] tails;
    private long cursorMs;
    private boolean started;

    ExpiryWheel(final Links links, final int slots, final long slotMs)
    {
        if (Integer.bitCount(slots) != 1 || slotMs <= 0)
        {
            throw new IllegalArgumentException("wheel needs a power-of-two slot count and a positive slot width");
        }
        this.links = links;
        this.slotMs = slotMs;
        this.mask = slots - 1;
        this.heads = new int[slots];
        this.tails = new int[slots];
    }

    private int index(final long timeMs)
    {
        return (int)Math.floorDiv(timeMs, slotMs) & mask;
    }

    void insert(final int ref, final long expirationMs, final long nowMs)
    {
        if (!started)
        {
            cursorMs = Math.floorDiv(Math.min(nowMs, expirationMs), slotMs) * slotMs;
            started = true;
        }
        links.append(heads, tails, index(Math.max(expirationMs, cursorMs)), ref);
    }

    void remove(final int ref)
    {
        links.unlink(heads, tails, ref);
    }

    /** The expiration of an entry moved earlier: put it in the slot of the new time. */
    void moveEarlier(final int ref, final long expirationMs, final long nowMs)
    {
        if (links.isLinked(ref))
        {
            links.unlink(heads, tails, ref);
            insert(ref, expirationMs, nowMs);
        }
    }

    /**
     * Processes the slots that have fully passed at {@code nowMs}, examining at most {@code budget} entries.
     * Calls {@code sink} for every expired entry (already out of the wheel) to remove it.
     *
     * @return the number of entries examined; {@link #behind(long)} tells whether passed slots remain.
     */
    int sweep(final long nowMs, final int budget, final ExpiredSink sink)
    {
        if (!started)
        {
            return 0;
        }
        int examined = 0;
        int slotsWalked = 0;
        while (cursorMs + slotMs <= nowMs && examined < budget)
        {
            final int list = index(cursorMs);
            int ref = links.detach(heads, tails, list);
            while (ref != 0)
            {
                if (examined == budget)
                {
                    links.reattachFront(heads, tails, list, ref);
                    return examined;
                }
                final int next = links.next(ref);
                links.clear(ref);
                examined++;
                final long expiration = sink.expirationMs(ref);
                if (expiration <= nowMs)
                {
                    sink.expired(ref);
                }
                else
                {
                    links.append(heads, tails, index(Math.max(expiration, cursorMs + slotMs)), ref);
                }
                ref = next;
            }
            cursorMs += slotMs;
            if (++slotsWalked > mask)
            {
                // A whole revolution walked: every entry was examined once, so skip ahead to now.
                cursorMs = Math.max(cursorMs, Math.floorDiv(nowMs, slotMs) * slotMs - slotMs);
                slotsWalked = 0;
            }
        }
        return examined;
    }

    /** True while slots that have fully passed at {@code nowMs} remain to be swept. */
    boolean behind(final long nowMs)
    {
        return started && cursorMs + slotMs <= nowMs;
    }

    /** When the next non-empty slot will have fully passed, or {@link Long#MAX_VALUE} if the wheel is empty. */
    long nextDueMs()
    {
        if (!started)
        {
            return Long.MAX_VALUE;
        }
        for (int i = 0; i <= mask; i++)
        {
            final long t = cursorMs + i * slotMs;
            if (heads[index(t)] != 0)
            {
                return t + slotMs;
            }
        }
        return Long.MAX_VALUE;
    }

    long slotMs()
    {
        return slotMs;
    }

    long memoryBytes()
    {
        return (long)heads.length * 8;
    }

    /** What the wheel asks its table while sweeping. */
    interface ExpiredSink
    {
        long expirationMs(int ref);

        void expired(int ref);
    }
}
