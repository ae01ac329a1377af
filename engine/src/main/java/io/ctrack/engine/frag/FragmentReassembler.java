package io.ctrack.engine.frag;

import io.ctrack.engine.packet.Checksums;
import io.ctrack.engine.packet.Ipv6ExtHeaders;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.ctrack.engine.packet.Protocols.*;

/**
 * Holds IPv4 and IPv6 fragments until their datagram is complete, with Open vSwitch's rules ({@code ipf.c}):
 * <ul>
 * <li>a fragment must be well formed (header lengths, IPv4 header checksum, IP length equal to the bytes
 * present) and, unless it is the last one, at least 1200 (IPv4) or 1280 (IPv6) bytes long, else it is
 * invalid;</li>
 * <li>a fragment overlapping one already held is invalid;</li>
 * <li>fragments are keyed by addresses, IP id, zone (and protocol for IPv4); a datagram completes when its first
 * and last fragments are held and the held data is contiguous;</li>
 * <li>the completed datagram is tracked once, in place of the fragment that completed it, and every fragment
 * gets its verdict; an incomplete datagram is dropped 15 s after its first fragment.</li>
 * </ul>
 * When the fragment memory is full, or a datagram's reassembly failed, fragments are not held: they are tracked
 * as they are, which is what Open vSwitch does too. So is a fragment of a datagram completed earlier in the same
 * batch (a duplicate, typically): Open vSwitch keeps a completed datagram's list until the end of the batch
 * ({@code ipf_postprocess_conntrack}) and does not hold fragments that match it; so does this class, until
 * {@link #endBatch()}. Memory is fixed at construction: {@code maxFragments} slots of
 * {@code slotBytes}. Not thread-safe: one per packet thread.
 */
public final class FragmentReassembler
{
    /** The packet is not a fragment: track it as it is. */
    public static final int NOT_FRAGMENT = 0;
    /** The fragment is invalid ({@link #lastReason()}): answer {@code inv}. */
    public static final int INVALID = 1;
    /** The fragment is held: no state yet. */
    public static final int HELD = 2;
    /** The fragment completed its datagram: track {@link #reassembled()}, then {@link #releaseCompleted()}. */
    public static final int COMPLETED = 3;
    /**
     * The fragment is not held (memory full, the datagram failed, or it was completed earlier in this batch): track
     * it as it is.
     */
    public static final int PASS = 4;

    private static final int STATE_FREE = 0;
    private static final int STATE_OTHER = 1;
    private static final int STATE_FIRST = 2;
    private static final int STATE_LAST = 3;
    private static final int STATE_FIRST_LAST = 4;
    private static final int STATE_FAILED = 5;
    /** Reassembled in the current batch: its fragments are released, the list stays until {@link #endBatch()}. */
    private static final int STATE_COMPLETED = 6;
    private static final int IPV4_MAX = 65535;
    private static final int HASH_BUCKETS = 256;

    private final FragConfig config;
    private final EngineCounters counters;
    private final int v4ListCap;
    private final Ipv6ExtHeaders extHeaders = new Ipv6ExtHeaders();

    // Fragment slots.
    private final UnsafeBuffer slotBytes;
    private final int[] slotLength;
    private final int[] slotL3;
    private final int[] slotL4;
    private final int[] slotStart;
    private final int[] slotEnd;
    private final long[] slotTag;
    private final int[] freeSlots;
    private int freeSlotCount;

    // Datagram lists.
    private final int[] listState;
    private final boolean[] listV6;
    private final long[] listSrcHi;
    private final long[] listSrcLo;
    private final long[] listDstHi;
    private final long[] listDstLo;
    private final int[] listId;
    private final int[] listProtoZone;
    private final long[] listExpiration;
    private final int[][] listSlots;
    private final int[] listCount;
    private final int[] listNext;
    private final int[] bucketHead = new int[HASH_BUCKETS];
    private final int[] freeLists;
    private int freeListCount;
    private int liveLists;

    private final UnsafeBuffer reassembly = new UnsafeBuffer(ByteBuffer.allocateDirect(IPV4_MAX + 64 * 1024));
    private final ParsedFrame reassembled = new ParsedFrame();
    private int completedList = -1;
    /** Lists completed in the current batch, freed by {@link #endBatch()}. */
    private final int[] completedInBatch;
    private int completedInBatchCount;
    private int lastReason;

    public FragmentReassembler(final FragConfig config, final EngineCounters counters)
    {
        this.config = config;
        this.counters = counters;
        this.v4ListCap = Math.min(config.maxFragsPerList(),
            (IPV4_MAX - 60 + (config.minV4FragSize() - 60) - 1) / (config.minV4FragSize() - 60));
        final int n = config.maxFragments();
        slotBytes = new UnsafeBuffer(ByteBuffer.allocateDirect(n * config.slotBytes()));
        slotLength = new int[n];
        slotL3 = new int[n];
        slotL4 = new int[n];
        slotStart = new int[n];
        slotEnd = new int[n];
        slotTag = new long[n];
        freeSlots = new int[n];
        for (int i = 0; i < n; i++)
        {
            freeSlots[i] = n - 1 - i;
        }
        freeSlotCount = n;

        listState = new int[n + 1];
        listV6 = new boolean[n + 1];
        listSrcHi = new long[n + 1];
        listSrcLo = new long[n + 1];
        listDstHi = new long[n + 1];
        listDstLo = new long[n + 1];
        listId = new int[n + 1];
        listProtoZone = new int[n + 1];
        listExpiration = new long[n + 1];
        listSlots = new int[n + 1][config.maxFragsPerList()];
        listCount = new int[n + 1];
        listNext = new int[n + 1];
        freeLists = new int[n];
        // List 0 means "none" in the hash chains.
        for (int i = 0; i < n; i++)
        {
            freeLists[i] = n - i;
        }
        freeListCount = n;
        completedInBatch = new int[n];
    }

    /** Counter id of the reason for the last {@link #INVALID}. */
    public int lastReason()
    {
        return lastReason;
    }

    /**
     * Offers a packet. {@code tag} is the caller's identity for the packet; it comes back with the fragment's
     * verdict when its datagram completes.
     */
    public int offer(final ParsedFrame frame, final int zone, final long tag, final long nowMs)
    {
        final int dlType = frame.dlType();
        if (dlType == ETH_TYPE_IPV4)
        {
            return offerV4(frame, zone, tag, nowMs);
        }
        if (dlType == ETH_TYPE_IPV6)
        {
            return offerV6(frame, zone, tag, nowMs);
        }
        return NOT_FRAGMENT;
    }

    private int offerV4(final ParsedFrame frame, final int zone, final long tag, final long nowMs)
    {
        final DirectBuffer b = frame.buffer();
        final int l3 = frame.l3Offset();
        if (l3 == ParsedFrame.NONE || (frame.l4Offset() != ParsedFrame.NONE && frame.nwFrag() == 0))
        {
            // Not a fragment (a sane header the parser read); a header the parser refused is refused later too.
            return NOT_FRAGMENT;
        }
        final int l3Size = frame.l3Size();
        if (l3Size < IPV4_HEADER_LENGTH)
        {
            return invalid(EngineCounter.INVALID_L3_HEADER);
        }
        final int fragField = b.getShort(l3 + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if ((fragField & (IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)) == 0)
        {
            return NOT_FRAGMENT;
        }
        final int totalLength = b.getShort(l3 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int headerLength = (b.getByte(l3) & 0x0F) * 4;
        if (totalLength != l3Size || headerLength < IPV4_HEADER_LENGTH || l3Size < headerLength)
        {
            return invalid(EngineCounter.FRAG_INVALID);
        }
        if (Checksums.checksum(b, l3, headerLength) != 0)
        {
            return invalid(EngineCounter.INVALID_L3_CHECKSUM);
        }
        final boolean last = (fragField & IP_FRAG_OFF_MASK) != 0 && (fragField & IP_MORE_FRAGMENTS) == 0;
        final boolean first = (fragField & IP_FRAG_OFF_MASK) == 0 && (fragField & IP_MORE_FRAGMENTS) != 0;
        if (!last && l3Size < config.minV4FragSize())
        {
            return invalid(EngineCounter.FRAG_INVALID);
        }
        final int start = (fragField & IP_FRAG_OFF_MASK) * 8;
        final int end = start + totalLength - headerLength - 1;
        return handle(frame, false, 0, b.getInt(l3 + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL,
            0, b.getInt(l3 + 16, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL,
            b.getShort(l3 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF, (b.getByte(l3 + 9) & 0xFF) | zone << 8,
            start, end, first, last, tag, nowMs);
    }

    private int offerV6(final ParsedFrame frame, final int zone, final long tag, final long nowMs)
    {
        final DirectBuffer b = frame.buffer();
        final int l3 = frame.l3Offset();
        if (l3 == ParsedFrame.NONE)
        {
            return NOT_FRAGMENT;
        }
        if (frame.l4Offset() == ParsedFrame.NONE)
        {
            return invalid(EngineCounter.INVALID_L3_HEADER);
        }
        final int l3Size = frame.l3Size();
        if (l3Size < IPV6_HEADER_LENGTH)
        {
            return invalid(EngineCounter.INVALID_L3_HEADER);
        }
        if (!extHeaders.parse(b, l3 + IPV6_HEADER_LENGTH, l3Size - IPV6_HEADER_LENGTH, b.getByte(l3 + 6) & 0xFF)
            || extHeaders.nwFrag() == 0 || extHeaders.fragHeaderOffset() == ParsedFrame.NONE)
        {
            return NOT_FRAGMENT;
        }
        final int payloadLength = b.getShort(l3 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if (payloadLength + IPV6_HEADER_LENGTH != l3Size)
        {
            return invalid(EngineCounter.FRAG_INVALID);
        }
        final int fragHeader = extHeaders.fragHeaderOffset();
        final int offsetAndFlags = b.getShort(fragHeader + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        if ((offsetAndFlags & (IP6F_OFF_MASK | IP6F_MORE_FRAG)) == 0)
        {
            return NOT_FRAGMENT;
        }
        final boolean last = (offsetAndFlags & IP6F_OFF_MASK) != 0 && (offsetAndFlags & IP6F_MORE_FRAG) == 0;
        final boolean first = (offsetAndFlags & IP6F_OFF_MASK) == 0 && (offsetAndFlags & IP6F_MORE_FRAG) != 0;
        if (!last && l3Size < config.minV6FragSize())
        {
            return invalid(EngineCounter.FRAG_INVALID);
        }
        // As Open vSwitch: data bytes counted from the fragment header, ending at the end of what follows the
        // parsed header chain.
        final int start = (offsetAndFlags & IP6F_OFF_MASK) + 8;
        final int end = start + frame.l4Size() - 1;
        return handle(frame, true,
            b.getLong(l3 + 8, ByteOrder.BIG_ENDIAN), b.getLong(l3 + 16, ByteOrder.BIG_ENDIAN),
            b.getLong(l3 + 24, ByteOrder.BIG_ENDIAN), b.getLong(l3 + 32, ByteOrder.BIG_ENDIAN),
            b.getInt(fragHeader + 4, ByteOrder.BIG_ENDIAN), zone << 8, start, end, first, last, tag, nowMs);
    }

    private int invalid(final EngineCounter reason)
    {
        lastReason = reason.id();
        counters.increment(reason);
        return INVALID;
    }

    private int handle(final ParsedFrame frame, final boolean v6, final long srcHi, final long srcLo,
        final long dstHi, final long dstLo, final int id, final int protoZone, final int start, final int end,
        final boolean first, final boolean last, final long tag, final long nowMs)
    {
        if (freeSlotCount == 0 || frame.frameLength() - frame.l2PadSize() > config.slotBytes())
        {
            counters.increment(EngineCounter.FRAG_TABLE_FULL);
            return PASS;
        }
        final int bucket = bucketOf(v6, srcHi, srcLo, dstHi, dstLo, id, protoZone);
        int list = bucketHead[bucket];
        while (list != 0)
        {
            if (listV6[list] == v6 && listId[list] == id && listProtoZone[list] == protoZone
                && listSrcHi[list] == srcHi && listSrcLo[list] == srcLo
                && listDstHi[list] == dstHi && listDstLo[list] == dstLo)
            {
                break;
            }
            list = listNext[list];
        }
        if (list == 0)
        {
            if (freeListCount == 0)
            {
                // Every list is taken (lists completed in this batch hold no slot but keep their list).
                counters.increment(EngineCounter.FRAG_TABLE_FULL);
                return PASS;
            }
            list = freeLists[--freeListCount];
            liveLists++;
            listState[list] = STATE_OTHER;
            listV6[list] = v6;
            listSrcHi[list] = srcHi;
            listSrcLo[list] = srcLo;
            listDstHi[list] = dstHi;
            listDstLo[list] = dstLo;
            listId[list] = id;
            listProtoZone[list] = protoZone;
            listExpiration[list] = nowMs + config.listTimeoutMs();
            listCount[list] = 0;
            listNext[list] = bucketHead[bucket];
            bucketHead[bucket] = list;
        }
        else if (listState[list] == STATE_FAILED || listState[list] == STATE_COMPLETED)
        {
            return PASS;
        }
        else if (listCount[list] >= (v6 ? config.maxFragsPerList() : v4ListCap))
        {
            counters.increment(EngineCounter.FRAG_TABLE_FULL);
            return PASS;
        }

        final int[] slots = listSlots[list];
        for (int i = 0; i < listCount[list]; i++)
        {
            final int s = slots[i];
            if ((start >= slotStart[s] && start <= slotEnd[s]) || (end >= slotStart[s] && end <= slotEnd[s]))
            {
                return invalid(EngineCounter.FRAG_INVALID);
            }
        }

        final int slot = freeSlots[--freeSlotCount];
        final int length = frame.frameLength() - frame.l2PadSize();
        slotBytes.putBytes(slot * config.slotBytes(), frame.buffer(), frame.frameOffset(), length);
        slotLength[slot] = length;
        slotL3[slot] = frame.l3Offset() - frame.frameOffset();
        slotL4[slot] = frame.l4Offset() - frame.frameOffset();
        slotStart[slot] = start;
        slotEnd[slot] = end;
        slotTag[slot] = tag;
        insertSorted(list, slot);
        counters.increment(EngineCounter.FRAG_HELD);

        final int state = listState[list];
        int next = state;
        if (state == STATE_OTHER)
        {
            next = first ? STATE_FIRST : last ? STATE_LAST : STATE_OTHER;
        }
        else if ((state == STATE_FIRST && last) || (state == STATE_LAST && first))
        {
            next = STATE_FIRST_LAST;
        }
        listState[list] = next;
        if (next == STATE_FIRST_LAST && contiguous(list))
        {
            if (reassemble(list))
            {
                completedList = list;
                counters.increment(EngineCounter.FRAG_REASSEMBLED);
                return COMPLETED;
            }
            listState[list] = STATE_FAILED;
        }
        return HELD;
    }

    private static int bucketOf(final boolean v6, final long srcHi, final long srcLo, final long dstHi,
        final long dstLo, final int id, final int protoZone)
    {
        long h = (srcHi + dstHi) * 31 + (srcLo + dstLo);
        h = h * 31 + id;
        h = h * 31 + protoZone + (v6 ? 1 : 0);
        h ^= h >>> 29;
        h *= 0x9E37_79B9_7F4A_7C15L;
        return (int)(h >>> 56) & (HASH_BUCKETS - 1);
    }

    private void insertSorted(final int list, final int slot)
    {
        final int[] slots = listSlots[list];
        int i = listCount[list];
        while (i > 0 && slotStart[slots[i - 1]] > slotStart[slot])
        {
            slots[i] = slots[i - 1];
            i--;
        }
        slots[i] = slot;
        listCount[list]++;
    }

    private boolean contiguous(final int list)
    {
        final int[] slots = listSlots[list];
        for (int i = 1; i < listCount[list]; i++)
        {
            if (slotEnd[slots[i - 1]] + 1 != slotStart[slots[i]])
            {
                return false;
            }
        }
        return true;
    }

    private boolean reassemble(final int list)
    {
        final int[] slots = listSlots[list];
        final int count = listCount[list];
        final int first = slots[0];
        final int firstBase = first * config.slotBytes();
        final int restLength = slotEnd[slots[count - 1]] - slotStart[slots[1]] + 1;
        if (slotLength[first] + restLength > IPV4_MAX)
        {
            return false;
        }
        reassembly.putBytes(0, slotBytes, firstBase, slotLength[first]);
        int p = slotLength[first];
        for (int i = 1; i < count; i++)
        {
            final int s = slots[i];
            final int add = slotEnd[s] - slotStart[s] + 1;
            reassembly.putBytes(p, slotBytes, s * config.slotBytes() + slotL4[s], add);
            p += add;
        }
        final int l3 = slotL3[first];
        if (listV6[list])
        {
            final int payload = (reassembly.getShort(l3 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF) - 8 + restLength;
            if (!extHeaders.parse(reassembly, l3 + IPV6_HEADER_LENGTH, p - l3 - IPV6_HEADER_LENGTH,
                reassembly.getByte(l3 + 6) & 0xFF) || extHeaders.nwFrag() == 0
                || extHeaders.fragHeaderOffset() == ParsedFrame.NONE)
            {
                return false;
            }
            // As Open vSwitch: clear the fragment header's offset and flags, and make the IPv6 next header the
            // transport protocol; tracking then finds the transport header where the first fragment had it.
            reassembly.putShort(extHeaders.fragHeaderOffset() + 2, (short)0, ByteOrder.BIG_ENDIAN);
            reassembly.putShort(l3 + 4, (short)payload, ByteOrder.BIG_ENDIAN);
            reassembly.putByte(l3 + 6, (byte)extHeaders.nwProto());
            reassembled.assign(reassembly, 0, p, ETH_TYPE_IPV6, l3, slotL4[first], extHeaders.nwProto());
        }
        else
        {
            final int totalLength = (reassembly.getShort(l3 + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF) + restLength;
            final int fragField = reassembly.getShort(l3 + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            reassembly.putShort(l3 + 2, (short)totalLength, ByteOrder.BIG_ENDIAN);
            reassembly.putShort(l3 + 6, (short)(fragField & ~IP_MORE_FRAGMENTS), ByteOrder.BIG_ENDIAN);
            final int headerLength = (reassembly.getByte(l3) & 0x0F) * 4;
            reassembly.putShort(l3 + 10, (short)0, ByteOrder.BIG_ENDIAN);
            reassembly.putShort(l3 + 10, (short)Checksums.checksum(reassembly, l3, headerLength), ByteOrder.BIG_ENDIAN);
            reassembled.assign(reassembly, 0, p, ETH_TYPE_IPV4, l3, slotL4[first],
                reassembly.getByte(l3 + 9) & 0xFF);
        }
        return true;
    }

    /** The completed datagram, valid after {@link #COMPLETED} until {@link #releaseCompleted()}. */
    public ParsedFrame reassembled()
    {
        return reassembled;
    }

    /** Fragments of the completed datagram. */
    public int completedCount()
    {
        return completedList < 0 ? 0 : listCount[completedList];
    }

    /** Tag of fragment {@code i} of the completed datagram. */
    public long completedTag(final int i)
    {
        return slotTag[listSlots[completedList][i]];
    }

    /**
     * Frees the completed datagram's fragments. Its list stays until {@link #endBatch()}: fragments that match it
     * until then are not held ({@link #PASS}).
     */
    public void releaseCompleted()
    {
        if (completedList >= 0)
        {
            freeSlots(completedList);
            listState[completedList] = STATE_COMPLETED;
            completedInBatch[completedInBatchCount++] = completedList;
            completedList = -1;
        }
    }

    /** The batch is over: forgets the datagrams completed in it (later fragments that match them start anew). */
    public void endBatch()
    {
        for (int i = 0; i < completedInBatchCount; i++)
        {
            freeList(completedInBatch[i]);
        }
        completedInBatchCount = 0;
    }

    /**
     * Drops datagrams still incomplete {@code listTimeoutMs} after their first fragment, and failed ones.
     * {@code dropped} is called with the tag of every fragment dropped (never given a verdict).
     */
    public int expire(final long nowMs, final TagSink dropped)
    {
        if (liveLists == 0)
        {
            return 0;
        }
        int removed = 0;
        for (int bucket = 0; bucket < HASH_BUCKETS; bucket++)
        {
            int list = bucketHead[bucket];
            while (list != 0)
            {
                final int next = listNext[list];
                if (nowMs > listExpiration[list] && listState[list] != STATE_COMPLETED)
                {
                    for (int i = 0; i < listCount[list]; i++)
                    {
                        counters.increment(EngineCounter.FRAG_EXPIRED);
                        if (dropped != null)
                        {
                            dropped.accept(slotTag[listSlots[list][i]]);
                        }
                    }
                    removed += listCount[list];
                    freeList(list);
                }
                list = next;
            }
        }
        return removed;
    }

    /** Fragments held now. */
    public int heldFragments()
    {
        return config.maxFragments() - freeSlotCount;
    }

    private void freeSlots(final int list)
    {
        final int[] slots = listSlots[list];
        for (int i = 0; i < listCount[list]; i++)
        {
            freeSlots[freeSlotCount++] = slots[i];
        }
        listCount[list] = 0;
    }

    private void freeList(final int list)
    {
        freeSlots(list);
        listState[list] = STATE_FREE;
        final int bucket = bucketOf(listV6[list], listSrcHi[list], listSrcLo[list], listDstHi[list], listDstLo[list],
            listId[list], listProtoZone[list]);
        if (bucketHead[bucket] == list)
        {
            bucketHead[bucket] = listNext[list];
        }
        else
        {
            int prev = bucketHead[bucket];
            while (listNext[prev] != list)
            {
                prev = listNext[prev];
            }
            listNext[prev] = listNext[list];
        }
        freeLists[freeListCount++] = list;
        liveLists--;
    }

    /** Receives the tags of dropped fragments. */
    @FunctionalInterface
    public interface TagSink
    {
        void accept(long tag);
    }
}
