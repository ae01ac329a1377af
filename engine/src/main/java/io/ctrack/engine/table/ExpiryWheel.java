package io.ctrack.engine.table;

/**
 * Finds expired connections without walking live ones: a hashed timing wheel of {@code slots} slots of
 * {@code slotMs} each. An entry sits in the slot of a time no later than its expiration. Refreshing a
 * connection only writes its expiration (O(1), no list moves: the slot stays a lower bound); only an expiration
 * that moves earlier (a shorter timeout class or policy) moves the entry.
 * <p>
 * The sweep takes each slot once it has fully passed: it moves the slot's whole list to a separate "being swept"
 * list and works through that, a budget at a time: expired entries are removed, refreshed ones go to the slot of
 * their new expiration (never back into the list being swept, so a slot full of long-lived entries is walked
 * once, not forever). An entry is therefore removed at most one slot, plus the time the sweep takes to reach it,
 * after it expires; a refreshed entry is visited about once per timeout, or once per revolution for timeouts
 * longer than a revolution.
 */
final class ExpiryWheel
{
    private final Links links;
    private final long slotMs;
    private final int mask;
    /** List number of the slot being swept. */
    private final int sweeping;
    private final int[] heads;
    private final int[] tails;
    /** Start of the slot being swept (if {@link #inSlot}) or of the next slot to sweep. */
    private long cursorMs;
    private boolean inSlot;
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
        this.sweeping = slots;
        this.heads = new int[slots + 1];
        this.tails = new int[slots + 1];
    }

    private int index(final long timeMs)
    {
        return (int)Math.floorDiv(timeMs, slotMs) & mask;
    }

    /** Start of the first slot the sweep has not taken yet. */
    private long nextSlotMs()
    {
        return inSlot ? cursorMs + slotMs : cursorMs;
    }

    void insert(final int ref, final long expirationMs, final long nowMs)
    {
        if (!started)
        {
            cursorMs = Math.floorDiv(Math.min(nowMs, expirationMs), slotMs) * slotMs;
            started = true;
        }
        final long next = nextSlotMs();
        // Due before the next slot the sweep will take: it belongs with what is being swept now.
        links.append(heads, tails, expirationMs < next ? (inSlot ? sweeping : index(next)) : index(expirationMs), ref);
    }

    void remove(final int ref)
    {
        links.unlink(heads, tails, ref);
    }

    /** The expiration of an entry moved earlier: put it where the sweep will find it in time. */
    void moveEarlier(final int ref, final long expirationMs, final long nowMs)
    {
        if (links.isLinked(ref))
        {
            links.unlink(heads, tails, ref);
            insert(ref, expirationMs, nowMs);
        }
    }

    /**
     * Sweeps slots that have fully passed at {@code nowMs}, examining at most {@code budget} entries; calls
     * {@code sink} for every expired entry (already out of the wheel) to remove it.
     *
     * @return the number of entries examined.
     */
    int sweep(final long nowMs, final int budget, final ExpiredSink sink)
    {
        if (!started)
        {
            return 0;
        }
        int examined = 0;
        int slotsTaken = 0;
        while (examined < budget)
        {
            if (heads[sweeping] == 0)
            {
                if (inSlot)
                {
                    cursorMs += slotMs;
                    inSlot = false;
                }
                if (cursorMs + slotMs > nowMs)
                {
                    break;
                }
                if (++slotsTaken > mask)
                {
                    // A whole revolution taken in one call: every entry has been seen; skip ahead to now.
                    cursorMs = Math.max(cursorMs, Math.floorDiv(nowMs, slotMs) * slotMs - slotMs);
                    slotsTaken = 0;
                }
                links.moveList(heads, tails, index(cursorMs), sweeping);
                inSlot = true;
                continue;
            }
            final int ref = heads[sweeping];
            links.unlink(heads, tails, ref);
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
        }
        return examined;
    }

    /** True while slots that have fully passed at {@code nowMs} remain to be swept. */
    boolean behind(final long nowMs)
    {
        return started && (heads[sweeping] != 0 || nextSlotMs() + slotMs <= nowMs);
    }

    /** When the next non-empty slot will have fully passed, or {@link Long#MAX_VALUE} if the wheel is empty. */
    long nextDueMs()
    {
        if (!started)
        {
            return Long.MAX_VALUE;
        }
        if (heads[sweeping] != 0)
        {
            return cursorMs + slotMs;
        }
        final long next = nextSlotMs();
        for (int i = 0; i <= mask; i++)
        {
            final long t = next + i * slotMs;
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
