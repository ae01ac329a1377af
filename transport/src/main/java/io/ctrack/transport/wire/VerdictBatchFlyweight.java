package io.ctrack.transport.wire;

import io.ctrack.engine.ct.Verdict;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The verdicts of one batch, from a bucket back to the worker that sent it, little-endian:
 *
 * <pre>
 *   0 u16 version      {@link #VERSION}
 *   2 u16 count
 *   4 u16 bucketId
 *   6 u16 verdictLength 0 or 32: 32-byte verdicts; 64: verdicts with their NAT part (batches with a NAT action)
 *   8 u32 batchSeq     the batch these verdicts answer
 *  12 u32 reserved
 *  16 u16[count]       position of each verdict in the worker's batch, padded to a multiple of 8 bytes
 *   .. B[count]        verdicts ({@link Verdict} layout, verdictLength bytes each)
 * </pre>
 */
public final class VerdictBatchFlyweight
{
    public static final int VERSION = 1;
    public static final int HEADER_LENGTH = 16;
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private MutableDirectBuffer buffer;
    private int offset;
    private final Verdict verdict = new Verdict();

    public static int length(final int count)
    {
        return length(count, Verdict.LENGTH);
    }

    /** Bytes of {@code count} verdicts of {@code verdictLength} bytes each. */
    public static int length(final int count, final int verdictLength)
    {
        return HEADER_LENGTH + positionsLength(count) + count * verdictLength;
    }

    /** How many verdicts of {@code verdictLength} bytes fit in a message of at most {@code maxLength} bytes. */
    public static int capacity(final int maxLength, final int verdictLength)
    {
        int count = (maxLength - HEADER_LENGTH) / (verdictLength + 2);
        while (count > 0 && length(count, verdictLength) > maxLength)
        {
            count--;
        }
        return count;
    }

    private static int positionsLength(final int count)
    {
        return (count * 2 + 7) & ~7;
    }

    public VerdictBatchFlyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        layout();
        return this;
    }

    /** Where verdict 0 is and how long verdicts are, computed once per message. */
    private int verdictsAt;
    private int stride = Verdict.LENGTH;

    private void layout()
    {
        if (buffer.capacity() - offset < HEADER_LENGTH)
        {
            return;
        }
        stride = verdictLength();
        verdictsAt = offset + HEADER_LENGTH + positionsLength(count());
    }

    public VerdictBatchFlyweight header(final int count, final int bucketId, final int batchSeq)
    {
        return header(count, bucketId, batchSeq, Verdict.LENGTH);
    }

    public VerdictBatchFlyweight header(final int count, final int bucketId, final int batchSeq, final int verdictLength)
    {
        buffer.putLong(offset, VERSION | (long)count << 16 | (long)bucketId << 32 | (long)verdictLength << 48, ORDER);
        buffer.putLong(offset + 8, batchSeq & 0xFFFF_FFFFL, ORDER);
        layout();
        return this;
    }

    /** Bytes per verdict in this message. */
    public int verdictLength()
    {
        final int length = buffer.getShort(offset + 6, ORDER) & 0xFFFF;
        return length == 0 ? Verdict.LENGTH : length;
    }

    public VerdictBatchFlyweight position(final int index, final int position)
    {
        buffer.putShort(offset + HEADER_LENGTH + index * 2, (short)position, ORDER);
        return this;
    }

    /** The verdict slot {@code index}, as a flyweight valid until the next call. */
    public Verdict verdict(final int index)
    {
        return verdict.wrap(buffer, verdictsAt + index * stride);
    }

    public int version()
    {
        return buffer.getShort(offset, ORDER) & 0xFFFF;
    }

    public int count()
    {
        return buffer.getShort(offset + 2, ORDER) & 0xFFFF;
    }

    public int bucketId()
    {
        return buffer.getShort(offset + 4, ORDER) & 0xFFFF;
    }

    public int batchSeq()
    {
        return buffer.getInt(offset + 8, ORDER);
    }

    public int position(final int index)
    {
        return buffer.getShort(offset + HEADER_LENGTH + index * 2, ORDER) & 0xFFFF;
    }
}
