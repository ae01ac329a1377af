package io.ctrack.transport.wire;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.nat.NatSpec;
import io.ctrack.engine.packet.RecordWords;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * A batch of tracking requests from a packet worker to one bucket, little-endian:
 *
 * <pre>
 *   0 u16 version      {@link #VERSION}
 *   2 u16 count        requests in the batch
 *   4 u16 workerId     where the verdicts go
 *   6 u16 flags        bit0 commit, bit1 force, bit2 set mark, bit3 set label, bit4 NAT block follows,
 *                      bit5 forwarded by another bucket (forward records follow the positions), bit6 track
 *                      without following aliases (sent back by the owner of a stale alias), bit7 single-pass
 *                      pipeline (field records follow), bit8 every request is IPv4 in the 40-byte form, bit9
 *                      every request is in the 24-byte form (UDP or SCTP, IPv4, no ct_state carried in)
 *   8 u32 batchSeq     the worker's batch number, echoed in the verdicts
 *  12 u16 zone
 *  14 u16 postCtTable  with bit7: the table the bucket evaluates after ct (single-pass pipeline)
 *  16 u32 markValue
 *  20 u32 markMask
 *  24 u64 labelValueLo, 32 u64 labelValueHi, 40 u64 labelMaskLo, 48 u64 labelMaskHi
 *  56 i64 nowMs        the time the worker tracks the batch at (the engine never reads a clock)
 *  64 [64 B NAT block] if bit4: the {@code nat(...)} of the action ({@link NatSpec} encoding, 48 B, then 16 zero)
 *  .. u16[count]       position of each request in the worker's batch, padded to a multiple of 8 bytes
 *  .. [16 B[count]]    if bit5, per request: i32 owner entry, u16 forwarding bucket, u8 1 if the alias matched the
 *                      reply direction, u8 0, i64 connection id
 *  .. [48 B[count]]    if bit7, per request: the packet's fields ({@code PacketFields} record; bytes 12-15: the
 *                      pipeline's generation)
 *  .. 64 B[count]      requests ({@link CtRequest} layout); 40 B[count] with bit8 ({@link CtRequest#writeCompactTo});
 *                      24 B[count] with bit9 ({@link CtRequest#writeShortTo})
 * </pre>
 */
public final class BatchFlyweight
{
    public static final int VERSION = 1;
    public static final int HEADER_LENGTH = 64;
    public static final int FLAG_COMMIT = 1;
    public static final int FLAG_FORCE = 2;
    public static final int FLAG_SET_MARK = 4;
    public static final int FLAG_SET_LABEL = 8;
    public static final int FLAG_NAT = 16;
    public static final int FLAG_FORWARDED = 32;
    public static final int FLAG_IGNORE_ALIASES = 64;
    public static final int FLAG_PIPELINE = 128;
    /**
     * Every request is IPv4 and in {@link CtRequest#COMPACT_LENGTH its 40-byte form}: 24 bytes fewer per packet to
     * carry from one core to the other.
     */
    public static final int FLAG_COMPACT = 256;
    /**
     * Every request is in {@link CtRequest#SHORT_LENGTH its 24-byte form} ({@link CtRequest#isShortForm()}: IPv4 UDP or
     * SCTP, nothing carried in): 16 bytes fewer per packet than the compact form.
     */
    public static final int FLAG_SHORT = 512;
    public static final int NAT_BLOCK_LENGTH = 64;
    public static final int FORWARD_RECORD_LENGTH = 16;
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private MutableDirectBuffer buffer;
    private int offset;

    /** Bytes a batch of {@code count} requests takes (no NAT block, not forwarded). */
    public static int length(final int count)
    {
        return HEADER_LENGTH + positionsLength(count) + count * CtRequest.LENGTH;
    }

    /** Bytes a batch of {@code count} requests takes with the given flags' optional parts. */
    public static int length(final int count, final int flags)
    {
        return HEADER_LENGTH + ((flags & FLAG_NAT) != 0 ? NAT_BLOCK_LENGTH : 0) + positionsLength(count)
            + ((flags & FLAG_FORWARDED) != 0 ? count * FORWARD_RECORD_LENGTH : 0)
            + ((flags & FLAG_PIPELINE) != 0 ? count * FIELDS_RECORD_LENGTH : 0) + count * requestLength(flags);
    }

    /** Bytes of each request in a batch with these flags. */
    public static int requestLength(final int flags)
    {
        return (flags & FLAG_SHORT) != 0 ? CtRequest.SHORT_LENGTH
            : (flags & FLAG_COMPACT) != 0 ? CtRequest.COMPACT_LENGTH : CtRequest.LENGTH;
    }

    /** Bytes of each request of this batch. */
    public int requestLength()
    {
        return requestLength;
    }

    /** Bytes of a per-request fields record of a pipeline batch. */
    public static final int FIELDS_RECORD_LENGTH = 48;

    public int postCtTable()
    {
        return buffer.getShort(offset + 14, ORDER) & 0xFFFF;
    }

    /** Offset of request {@code index}'s fields record (pipeline batches). */
    public int fieldsOffset(final int index)
    {
        return fieldsAt + index * FIELDS_RECORD_LENGTH;
    }

    private static int positionsLength(final int count)
    {
        return (count * 2 + 7) & ~7;
    }

    /** How many requests fit in {@code maxLength} bytes. */
    public static int capacity(final int maxLength)
    {
        return capacity(maxLength, 0);
    }

    /** How many requests fit in {@code maxLength} bytes with the given flags' optional parts. */
    public static int capacity(final int maxLength, final int flags)
    {
        int count = (maxLength - HEADER_LENGTH) / (requestLength(flags) + 2);
        while (count > 0 && length(count, flags) > maxLength)
        {
            count--;
        }
        return count;
    }

    public BatchFlyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        layout();
        return this;
    }

    /** Offsets of the parts after the header, computed once per message (from its count and flags). */
    private int positionsAt;
    private int forwardsAt;
    private int fieldsAt;
    private int requestsAt;
    private int requestLength = CtRequest.LENGTH;

    private void layout()
    {
        if (buffer.capacity() - offset < HEADER_LENGTH)
        {
            return;
        }
        final int count = buffer.getShort(offset + 2, ORDER) & 0xFFFF;
        final int flags = buffer.getShort(offset + 6, ORDER) & 0xFFFF;
        positionsAt = offset + HEADER_LENGTH + ((flags & FLAG_NAT) != 0 ? NAT_BLOCK_LENGTH : 0);
        forwardsAt = positionsAt + positionsLength(count);
        fieldsAt = forwardsAt + ((flags & FLAG_FORWARDED) != 0 ? count * FORWARD_RECORD_LENGTH : 0);
        requestsAt = fieldsAt + ((flags & FLAG_PIPELINE) != 0 ? count * FIELDS_RECORD_LENGTH : 0);
        requestLength = requestLength(flags);
    }

    /** Writes the header for {@code count} requests. */
    public BatchFlyweight header(final int count, final int workerId, final int batchSeq, final long nowMs,
        final ExecParams params)
    {
        return header(count, workerId, batchSeq, nowMs, params, 0, 0);
    }

    /**
     * Writes the header for {@code count} requests with {@code extraFlags} ({@link #FLAG_COMPACT}, {@link #FLAG_SHORT},
     * {@link #FLAG_PIPELINE}: single-pass, the bucket evaluates table {@code postCtTable} after ct, with the field
     * records): the layout computed once, one bounds check.
     */
    public BatchFlyweight header(final int count, final int workerId, final int batchSeq, final long nowMs,
        final ExecParams params, final int extraFlags, final int postCtTable)
    {
        int flags = extraFlags;
        flags |= params.commit() ? FLAG_COMMIT : 0;
        flags |= params.force() ? FLAG_FORCE : 0;
        flags |= params.setMark() ? FLAG_SET_MARK : 0;
        flags |= params.setLabel() ? FLAG_SET_LABEL : 0;
        flags |= params.nat() != null ? FLAG_NAT : 0;
        RecordWords.check(buffer, offset, HEADER_LENGTH);
        RecordWords.put(buffer, offset, VERSION | (long)count << 16 | (long)workerId << 32 | (long)flags << 48);
        RecordWords.put(buffer, offset + 8, (batchSeq & 0xFFFF_FFFFL) | (long)params.zone() << 32
            | ((flags & FLAG_PIPELINE) != 0 ? (long)(postCtTable & 0xFFFF) << 48 : 0));
        RecordWords.put(buffer, offset + 16, (params.markValue() & 0xFFFF_FFFFL) | (long)params.markMask() << 32);
        RecordWords.put(buffer, offset + 24, params.labelValueLo());
        RecordWords.put(buffer, offset + 32, params.labelValueHi());
        RecordWords.put(buffer, offset + 40, params.labelMaskLo());
        RecordWords.put(buffer, offset + 48, params.labelMaskHi());
        RecordWords.put(buffer, offset + 56, nowMs);
        if (params.nat() != null)
        {
            params.nat().writeTo(buffer, offset + HEADER_LENGTH);
            buffer.putLong(offset + HEADER_LENGTH + NatSpec.ENCODED_LENGTH, 0, ORDER);
            buffer.putLong(offset + HEADER_LENGTH + NatSpec.ENCODED_LENGTH + 8, 0, ORDER);
        }
        layout();
        return this;
    }

    /**
     * Writes the header of a batch of {@code count} requests that repeats {@code source}'s action (its header and
     * NAT block), with {@code addFlags} or'ed in and {@code removeFlags} cleared: how a bucket forwards requests
     * of a worker's batch to another bucket.
     */
    public BatchFlyweight copyHeader(final BatchFlyweight source, final int count, final int addFlags,
        final int removeFlags)
    {
        final int flags = (source.flags() | addFlags) & ~removeFlags;
        buffer.putBytes(offset, source.buffer, source.offset, HEADER_LENGTH + ((flags & FLAG_NAT) != 0 ? NAT_BLOCK_LENGTH : 0));
        buffer.putShort(offset + 2, (short)count, ORDER);
        buffer.putShort(offset + 6, (short)flags, ORDER);
        if ((flags & FLAG_PIPELINE) == 0)
        {
            buffer.putShort(offset + 14, (short)0, ORDER);
        }
        layout();
        return this;
    }

    public int flags()
    {
        return buffer.getShort(offset + 6, ORDER) & 0xFFFF;
    }

    /**
     * Or's {@code flags} into the header and recomputes where the parts lie (a flag such as
     * {@link #FLAG_FORWARDED} adds a part): write positions, forward records and requests only after this.
     */
    public BatchFlyweight addFlags(final int flags)
    {
        buffer.putShort(offset + 6, (short)(flags() | flags), ORDER);
        layout();
        return this;
    }

    /**
     * The NAT spec of the batch, or null if it has none; {@code cached} is returned if it equals the encoded one,
     * so a reader decoding the same action again and again allocates nothing.
     */
    public NatSpec natSpec(final NatSpec cached)
    {
        if ((flags() & FLAG_NAT) == 0)
        {
            return null;
        }
        final int at = offset + HEADER_LENGTH;
        if (cached != null && cached.encodedEquals(buffer, at))
        {
            return cached;
        }
        return NatSpec.readFrom(buffer, at);
    }

    /** Writes forward record {@code index} (see the class comment). */
    public BatchFlyweight forward(final int index, final int ownerRef, final int fromBucket, final boolean reply,
        final long connId)
    {
        final int at = forwardOffset(index);
        buffer.putInt(at, ownerRef, ORDER);
        buffer.putShort(at + 4, (short)fromBucket, ORDER);
        buffer.putShort(at + 6, (short)(reply ? 1 : 0), ORDER);
        buffer.putLong(at + 8, connId, ORDER);
        return this;
    }

    public int forwardOwnerRef(final int index)
    {
        return buffer.getInt(forwardOffset(index), ORDER);
    }

    public int forwardFromBucket(final int index)
    {
        return buffer.getShort(forwardOffset(index) + 4, ORDER) & 0xFFFF;
    }

    public boolean forwardReply(final int index)
    {
        return buffer.getByte(forwardOffset(index) + 6) != 0;
    }

    public long forwardConnId(final int index)
    {
        return buffer.getLong(forwardOffset(index) + 8, ORDER);
    }

    private int positionsOffset()
    {
        return positionsAt;
    }

    private int forwardOffset(final int index)
    {
        return forwardsAt + index * FORWARD_RECORD_LENGTH;
    }

    public long nowMs()
    {
        return buffer.getLong(offset + 56, ORDER);
    }

    public BatchFlyweight position(final int index, final int position)
    {
        buffer.putShort(positionsOffset() + index * 2, (short)position, ORDER);
        return this;
    }

    /** Writes request {@code index}. */
    public BatchFlyweight request(final int index, final CtRequest request)
    {
        if (requestLength == CtRequest.SHORT_LENGTH)
        {
            request.writeShortTo(buffer, requestOffset(index));
        }
        else if (requestLength == CtRequest.COMPACT_LENGTH)
        {
            request.writeCompactTo(buffer, requestOffset(index));
        }
        else
        {
            request.writeTo(buffer, requestOffset(index));
        }
        return this;
    }

    public int version()
    {
        return buffer.getShort(offset, ORDER) & 0xFFFF;
    }

    public int count()
    {
        return buffer.getShort(offset + 2, ORDER) & 0xFFFF;
    }

    public int workerId()
    {
        return buffer.getShort(offset + 4, ORDER) & 0xFFFF;
    }

    public int batchSeq()
    {
        return buffer.getInt(offset + 8, ORDER);
    }

    /** Reads the ct() action of the batch into {@code params}. */
    public ExecParams readParams(final ExecParams params)
    {
        final int flags = buffer.getShort(offset + 6, ORDER) & 0xFFFF;
        params.zone(buffer.getShort(offset + 12, ORDER) & 0xFFFF)
            .commit((flags & FLAG_COMMIT) != 0)
            .force((flags & FLAG_FORCE) != 0);
        if ((flags & FLAG_SET_MARK) != 0)
        {
            params.mark(buffer.getInt(offset + 16, ORDER), buffer.getInt(offset + 20, ORDER));
        }
        else
        {
            params.clearMark();
        }
        if ((flags & FLAG_SET_LABEL) != 0)
        {
            params.label(buffer.getLong(offset + 24, ORDER), buffer.getLong(offset + 32, ORDER),
                buffer.getLong(offset + 40, ORDER), buffer.getLong(offset + 48, ORDER));
        }
        else
        {
            params.clearLabel();
        }
        params.nat(natSpec(params.nat()));
        return params;
    }

    public int position(final int index)
    {
        return buffer.getShort(positionsOffset() + index * 2, ORDER) & 0xFFFF;
    }

    public int requestOffset(final int index)
    {
        return requestsAt + index * requestLength;
    }

    /** Reads request {@code index} into {@code request}. */
    public CtRequest readRequest(final int index, final CtRequest request)
    {
        if (requestLength == CtRequest.SHORT_LENGTH)
        {
            return request.readShortFrom(buffer, requestOffset(index));
        }
        return requestLength == CtRequest.COMPACT_LENGTH ? request.readCompactFrom(buffer, requestOffset(index))
            : request.readFrom(buffer, requestOffset(index));
    }

    /** Copies the position table of this batch (for verdicts in the same order). */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int offset()
    {
        return offset;
    }
}
