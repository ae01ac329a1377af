package io.ctrack.engine.table;

import io.ctrack.engine.key.CtRequest;

import java.util.Arrays;

/**
 * Fixed-stride connection entries for one address family in one {@code long[]}. Slot 0 is never used, so a
 * reference of 0 means "none". Free slots are chained through their {@link #ZONE_LINKS} word.
 * <p>
 * Entry layout, in longs ({@code A} = address words: 1 for IPv4, 4 for IPv6):
 * <pre>
 *  0 ORIG_L4      original-direction source L4 word (high 32) | destination L4 word (low 32)
 *  1 META         proto 0-7 | zone 8-23 | nat action 24-27 | has-reply-key 28 | pending 29 | remote reply 30 |
 *                alias 31 | small state 32-33 | policy 40-55 | live 63
 *  2 EXPIRATION   milliseconds, same clock as the caller's now
 *  3 MARK         mark (low 32)
 *  4 ID           connection id
 *  5 ZONE_LINKS   prev ref (high 32) | next ref (low 32) in the zone's list
 *  6 EXPIRY_LINKS prev ref (high 32) | next ref (low 32) in the expiry wheel slot
 *  7 TCP0         peer 0 (original sender) seqlo (high 32) | seqhi (low 32)
 *  8 TCP1         peer 1 seqlo | seqhi
 *  9 TCP_MISC     per peer (peer 0 low 32, peer 1 high 32): max_win 0-15 | wscale 16-23 | state 24-31
 * 10 ORIG_ADDR    IPv4: source (high 32) | destination (low 32); IPv6: src hi, src lo, dst hi, dst lo
 * </pre>
 * Labels and the reply key of translated connections live in side arrays allocated on first use, so a table
 * that never sees them does not pay for them. An alias (the reply key of another bucket's translated connection)
 * uses an entry too: its key in ORIG_L4/ORIG_ADDR, the owner's connection id in ID, the owner's bucket (high 32)
 * and entry reference (low 32) in TCP0; it is in no zone list and no expiry slot. Not thread-safe.
 */
final class ConnStore
{
    static final int ORIG_L4 = 0;
    static final int META = 1;
    static final int EXPIRATION = 2;
    static final int MARK = 3;
    static final int ID = 4;
    static final int ZONE_LINKS = 5;
    static final int EXPIRY_LINKS = 6;
    static final int TCP0 = 7;
    static final int TCP1 = 8;
    static final int TCP_MISC = 9;
    static final int ORIG_ADDR = 10;
    static final int COMMON_WORDS = 10;

    final int addrWords;
    final int stride;
    final int familyBit;
    long[] data;
    long[] labels;
    long[] replyL4;
    long[] replyAddr;
    /** Per translated connection: the bucket holding its reply key's alias (when the reply key is remote). */
    int[] replyBucket;
    /** Single-pass pipeline cache, 4 words per slot: key and flow id for each direction (allocated on first use). */
    long[] flowCache;
    private int capacity;
    private int highWater = 1;
    private int freeHead;
    private int size;

    ConnStore(final boolean ipv6, final int initialCapacity)
    {
        this.addrWords = ipv6 ? 4 : 1;
        this.stride = COMMON_WORDS + addrWords;
        this.familyBit = ipv6 ? Refs.FAMILY_V6 : 0;
        this.capacity = Math.max(2, initialCapacity + 1);
        this.data = new long[capacity * stride];
    }

    int size()
    {
        return size;
    }

    int capacity()
    {
        return capacity - 1;
    }

    /** Allocates a zeroed slot and returns its index. */
    int allocate()
    {
        final int slot;
        if (freeHead != 0)
        {
            slot = freeHead;
            freeHead = (int)data[slot * stride + ZONE_LINKS];
        }
        else
        {
            if (highWater == capacity)
            {
                grow();
            }
            slot = highWater++;
        }
        Arrays.fill(data, slot * stride, slot * stride + stride, 0L);
        if (labels != null)
        {
            labels[slot * 2] = 0;
            labels[slot * 2 + 1] = 0;
        }
        if (flowCache != null)
        {
            Arrays.fill(flowCache, slot * 4, slot * 4 + 4, 0L);
        }
        size++;
        return slot;
    }

    void free(final int slot)
    {
        final int base = slot * stride;
        data[base + META] = 0;
        data[base + ZONE_LINKS] = freeHead;
        freeHead = slot;
        size--;
    }

    /** Pre-sizes the store for {@code entries} connections. */
    void ensureCapacity(final int entries)
    {
        while (capacity - 1 < entries)
        {
            grow();
        }
    }

    private void grow()
    {
        final long newCapacity = Math.min((long)capacity * 2, Refs.MAX_SLOTS);
        if (newCapacity <= capacity)
        {
            throw new IllegalStateException("connection store full at " + capacity + " entries");
        }
        capacity = (int)newCapacity;
        data = Arrays.copyOf(data, capacity * stride);
        if (labels != null)
        {
            labels = Arrays.copyOf(labels, capacity * 2);
        }
        if (flowCache != null)
        {
            flowCache = Arrays.copyOf(flowCache, capacity * 4);
        }
        if (replyL4 != null)
        {
            replyL4 = Arrays.copyOf(replyL4, capacity);
            replyAddr = Arrays.copyOf(replyAddr, capacity * addrWords);
            replyBucket = Arrays.copyOf(replyBucket, capacity);
        }
    }

    long[] labels()
    {
        if (labels == null)
        {
            labels = new long[capacity * 2];
        }
        return labels;
    }

    long[] flowCache()
    {
        if (flowCache == null)
        {
            flowCache = new long[capacity * 4];
        }
        return flowCache;
    }

    void ensureReplyKeys()
    {
        if (replyL4 == null)
        {
            replyL4 = new long[capacity];
            replyAddr = new long[capacity * addrWords];
            replyBucket = new int[capacity];
        }
    }

    /** Bytes held by this store's arrays. */
    long memoryBytes()
    {
        long bytes = (long)data.length * 8;
        if (labels != null)
        {
            bytes += (long)labels.length * 8;
        }
        if (flowCache != null)
        {
            bytes += (long)flowCache.length * 8;
        }
        if (replyL4 != null)
        {
            bytes += (long)replyL4.length * 8 + (long)replyAddr.length * 8 + (long)replyBucket.length * 4;
        }
        return bytes;
    }

    /** Slots ever handed out (live or free), for scans. */
    int highWater()
    {
        return highWater;
    }

    boolean isLive(final int slot)
    {
        return data[slot * stride + META] != 0;
    }

    /** Whether the addresses stored at {@code at} of {@code a} are {@code r}'s (its reverse if {@code swapped}). */
    static boolean addressesEqual(
        final long[] a, final int at, final boolean isV6, final CtRequest r, final boolean swapped)
    {
        if (!isV6)
        {
            final long src = r.srcLo() & ConnTableStorage.LOW32;
            final long dst = r.dstLo() & ConnTableStorage.LOW32;
            return a[at] == (swapped ? (dst << 32 | src) : (src << 32 | dst));
        }
        if (swapped)
        {
            return a[at] == r.dstHi() && a[at + 1] == r.dstLo() && a[at + 2] == r.srcHi() && a[at + 3] == r.srcLo();
        }
        return a[at] == r.srcHi() && a[at + 1] == r.srcLo() && a[at + 2] == r.dstHi() && a[at + 3] == r.dstLo();
    }

    /** A key's addresses as a slot stores them: IPv6 in four longs, IPv4 source and destination in one. */
    static void writeAddresses(final long[] to, final int at, final boolean isV6, final CtRequest key)
    {
        if (isV6)
        {
            to[at] = key.srcHi();
            to[at + 1] = key.srcLo();
            to[at + 2] = key.dstHi();
            to[at + 3] = key.dstLo();
        }
        else
        {
            to[at] = (key.srcLo() & ConnTableStorage.LOW32) << 32 | (key.dstLo() & ConnTableStorage.LOW32);
        }
    }
}
