package io.ctrack.transport;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.packet.RecordWords;
import io.ctrack.transport.wire.BatchFlyweight;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A packet thread's requests between their extraction and their publication, by position in the batch. An IPv4
 * request is kept in its compact form cut in two: the first 24 bytes (its short form, {@link CtRequest#isShortForm()})
 * in one array, the last 16 (TCP fields, ct_state carried in) in another, so that a message of short requests is one
 * copy per run of consecutive positions, as short as the requests; a request of the short form has no last 16 bytes
 * kept (its table reads no TCP field and it carries no ct_state): where a 40-byte record is needed they are
 * written as {@link CtRequest#readShortFrom} reads the short form. An IPv6 request is kept in the full form. A
 * message whose requests all have the short form carries 24 bytes each; one with a request that needs more, 40;
 * one with an IPv6 request carries every request in the full form, its IPv4 ones expanded then. Not thread-safe.
 */
final class StagedRequests
{
    /** {@link #copyTo}'s forms: 64-byte records, 40-byte IPv4 records, 24-byte records. */
    static final int FULL = 0;
    static final int COMPACT = 1;
    static final int SHORT = 2;

    private static final int TAIL_LENGTH = CtRequest.COMPACT_LENGTH - CtRequest.SHORT_LENGTH;

    private final UnsafeBuffer heads;
    private final UnsafeBuffer tails;
    private final UnsafeBuffer full;
    private final UnsafeBuffer joined = new UnsafeBuffer(new byte[CtRequest.COMPACT_LENGTH]);
    private final boolean[] ipv6;
    private final boolean[] shortForm;
    private final CtRequest expanding = new CtRequest();

    StagedRequests(final int capacity)
    {
        this.heads = new UnsafeBuffer(new byte[capacity * CtRequest.SHORT_LENGTH]);
        this.tails = new UnsafeBuffer(new byte[capacity * TAIL_LENGTH]);
        this.full = new UnsafeBuffer(new byte[capacity * CtRequest.LENGTH]);
        this.ipv6 = new boolean[capacity];
        this.shortForm = new boolean[capacity];
    }

    /** Keeps {@code request} as the request of {@code position}; returns whether it has the short form. */
    boolean stage(final int position, final CtRequest request)
    {
        final boolean v6 = request.isIpv6();
        ipv6[position] = v6;
        if (v6)
        {
            request.writeTo(full, position * CtRequest.LENGTH);
            return false;
        }
        request.writeCompactHeadTo(heads, position * CtRequest.SHORT_LENGTH);
        final boolean brief = request.isShortForm();
        shortForm[position] = brief;
        if (!brief)
        {
            request.writeCompactTailTo(tails, position * TAIL_LENGTH);
        }
        return brief;
    }

    /**
     * Writes the requests of positions {@code order[first..first+n)} into the message {@code batch} wraps, in
     * {@code form}: {@link #SHORT} (all of them of the short form) as runs of consecutive positions, one copy each;
     * {@link #COMPACT} (all of them IPv4) both parts of each; else one full record each.
     */
    void copyTo(final int[] order, final int first, final int n, final int form, final BatchFlyweight batch,
        final MutableDirectBuffer out)
    {
        if (form == SHORT)
        {
            int k = 0;
            while (k < n)
            {
                final int position = order[first + k];
                int run = 1;
                while (k + run < n && order[first + k + run] == position + run)
                {
                    run++;
                }
                out.putBytes(batch.requestOffset(k), heads, position * CtRequest.SHORT_LENGTH,
                    run * CtRequest.SHORT_LENGTH);
                k += run;
            }
            return;
        }
        if (form == COMPACT)
        {
            RecordWords.check(out, batch.requestOffset(0), n * CtRequest.COMPACT_LENGTH);
            for (int k = 0; k < n; k++)
            {
                joinCompact(order[first + k], out, batch.requestOffset(k));
            }
            return;
        }
        RecordWords.check(joined, 0, CtRequest.COMPACT_LENGTH);
        for (int k = 0; k < n; k++)
        {
            final int position = order[first + k];
            if (ipv6[position])
            {
                out.putBytes(batch.requestOffset(k), full, position * CtRequest.LENGTH, CtRequest.LENGTH);
            }
            else
            {
                joinCompact(position, joined, 0);
                expanding.readCompactFrom(joined, 0).writeTo(out, batch.requestOffset(k));
            }
        }
    }

    /** The compact record of IPv4 {@code position}, its two parts joined, at {@code offset} (checked by the caller). */
    private void joinCompact(final int position, final MutableDirectBuffer to, final int offset)
    {
        final int head = position * CtRequest.SHORT_LENGTH;
        final int tail = position * TAIL_LENGTH;
        RecordWords.check(heads, head, CtRequest.SHORT_LENGTH);
        RecordWords.check(tails, tail, TAIL_LENGTH);
        RecordWords.put(to, offset, RecordWords.get(heads, head));
        RecordWords.put(to, offset + 8, RecordWords.get(heads, head + 8));
        RecordWords.put(to, offset + 16, RecordWords.get(heads, head + 16));
        if (shortForm[position])
        {
            // No TCP fields, no ct_state; the L4 type (bytes 32-33) is the high byte of the source port (bytes 8-11).
            RecordWords.put(to, offset + 24, 0);
            RecordWords.put(to, offset + 32, (RecordWords.get(heads, head + 8) >>> 24) & 0xFF);
            return;
        }
        RecordWords.put(to, offset + 24, RecordWords.get(tails, tail));
        RecordWords.put(to, offset + 32, RecordWords.get(tails, tail + 8));
    }
}
