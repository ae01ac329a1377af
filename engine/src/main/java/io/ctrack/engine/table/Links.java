package io.ctrack.engine.table;

/**
 * Doubly-linked lists of entries threaded through one word of each entry (prev in the high 32 bits, next in
 * the low 32 bits), across both family stores. The first entry's prev and the last entry's next hold a
 * sentinel ({@link #SENTINEL} | list number), so an entry can be unlinked without knowing its list. A word of 0
 * means "not in a list". Used by the zone index and the expiry wheel.
 */
final class Links
{
    /** Marks a list end; real references never have this bit (it is a match bit, used only in the index). */
    static final int SENTINEL = Refs.MATCH_ORIG;

    private final ConnStore v4;
    private final ConnStore v6;
    private final int word;

    Links(final ConnStore v4, final ConnStore v6, final int word)
    {
        this.v4 = v4;
        this.v6 = v6;
        this.word = word;
    }

    private long get(final int ref)
    {
        final ConnStore s = Refs.isV6(ref) ? v6 : v4;
        return s.data[Refs.slot(ref) * s.stride + word];
    }

    private void set(final int ref, final long value)
    {
        final ConnStore s = Refs.isV6(ref) ? v6 : v4;
        s.data[Refs.slot(ref) * s.stride + word] = value;
    }

    private static long pack(final int prev, final int next)
    {
        return ((long)prev << 32) | (next & 0xFFFF_FFFFL);
    }

    private static boolean isSentinel(final int link)
    {
        return (link & SENTINEL) != 0;
    }

    boolean isLinked(final int ref)
    {
        return get(ref) != 0;
    }

    /** The entry after {@code ref} in its list, or 0 at the end. */
    int next(final int ref)
    {
        final int next = (int)get(ref);
        return isSentinel(next) ? 0 : next;
    }

    private void setPrev(final int ref, final int prev)
    {
        set(ref, pack(prev, (int)get(ref)));
    }

    private void setNext(final int ref, final int next)
    {
        set(ref, pack((int)(get(ref) >>> 32), next));
    }

    /** Appends {@code ref} (not in any list) to list {@code list}. */
    void append(final int[] heads, final int[] tails, final int list, final int ref)
    {
        final int tail = tails[list];
        final int sentinel = SENTINEL | list;
        if (tail == 0)
        {
            heads[list] = ref;
            set(ref, pack(sentinel, sentinel));
        }
        else
        {
            setNext(tail, ref);
            set(ref, pack(tail, sentinel));
        }
        tails[list] = ref;
    }

    /** Unlinks {@code ref} from whatever list it is in; a no-op if it is in none. */
    void unlink(final int[] heads, final int[] tails, final int ref)
    {
        final long links = get(ref);
        if (links == 0)
        {
            return;
        }
        final int prev = (int)(links >>> 32);
        final int next = (int)links;
        if (isSentinel(prev))
        {
            heads[prev & ~SENTINEL] = isSentinel(next) ? 0 : next;
        }
        else
        {
            setNext(prev, next);
        }
        if (isSentinel(next))
        {
            tails[next & ~SENTINEL] = isSentinel(prev) ? 0 : prev;
        }
        else
        {
            setPrev(next, prev);
        }
        set(ref, 0);
    }

    /** Moves every entry of list {@code from} to list {@code to}, which must be empty. O(1). */
    void moveList(final int[] heads, final int[] tails, final int from, final int to)
    {
        final int first = heads[from];
        if (first == 0)
        {
            return;
        }
        final int last = tails[from];
        setPrev(first, SENTINEL | to);
        setNext(last, SENTINEL | to);
        heads[to] = first;
        tails[to] = last;
        heads[from] = 0;
        tails[from] = 0;
    }

}
