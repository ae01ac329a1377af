package io.ctrack.engine.table;

/**
 * A table's open-addressing index: {@code long} slots holding a 32-bit hash and a 32-bit entry reference (0:
 * empty), linear probing from {@code hash & mask}, backward-shift deletion, grown by doubling at 70 % load. The
 * table probes {@link #slots} itself on lookups, so that the loop stays in one method; inserting and removing
 * are here. Not thread-safe.
 */
final class ConnIndex
{
    private static final double MAX_LOAD = 0.7;
    private static final long LOW32 = 0xFFFF_FFFFL;

    long[] slots;
    int mask;
    private int count;
    private int resizeAt;

    /** An index sized for {@code connections} entries without growing. */
    ConnIndex(final int connections)
    {
        allocate(Math.max(16, Integer.highestOneBit((int)Math.ceil(connections / MAX_LOAD)) * 2));
    }

    private void allocate(final int size)
    {
        slots = new long[size];
        mask = size - 1;
        resizeAt = (int)(size * MAX_LOAD);
    }

    void insert(final int hash, final int ref)
    {
        if (count + 1 > resizeAt)
        {
            grow();
        }
        final long[] idx = slots;
        int i = hash & mask;
        while (idx[i] != 0)
        {
            i = (i + 1) & mask;
        }
        idx[i] = ((long)hash << 32) | (ref & LOW32);
        count++;
    }

    private void grow()
    {
        final long[] old = slots;
        allocate(old.length * 2);
        final long[] idx = slots;
        for (final long v : old)
        {
            if (v != 0)
            {
                int i = (int)(v >>> 32) & mask;
                while (idx[i] != 0)
                {
                    i = (i + 1) & mask;
                }
                idx[i] = v;
            }
        }
    }

    /** Removes the slot of entry {@code entryRef} (any match mode) under {@code hash}; it must be there. */
    void remove(final int hash, final int entryRef)
    {
        final long[] idx = slots;
        final int m = mask;
        int i = hash & m;
        while (true)
        {
            final long v = idx[i];
            if (v == 0)
            {
                throw new IllegalStateException("index entry missing for connection " + Integer.toHexString(entryRef));
            }
            if ((int)(v >>> 32) == hash && Refs.entry((int)v) == entryRef)
            {
                break;
            }
            i = (i + 1) & m;
        }
        // Backward-shift deletion (Knuth 6.4, algorithm R): no tombstones, probe sequences stay short.
        int hole = i;
        int j = i;
        while (true)
        {
            j = (j + 1) & m;
            final long v = idx[j];
            if (v == 0)
            {
                break;
            }
            final int home = (int)(v >>> 32) & m;
            final boolean stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays)
            {
                idx[hole] = v;
                hole = j;
            }
        }
        idx[hole] = 0;
        count--;
    }

    /** Grows until {@code entries} fit without growing again. */
    void reserve(final int entries)
    {
        while (resizeAt < entries)
        {
            grow();
        }
    }

    long memoryBytes()
    {
        return (long)slots.length * 8;
    }

    double load()
    {
        return (double)count / slots.length;
    }
}
