package io.ctrack.transport;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.transport.wire.BatchFlyweight;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A packet thread's requests between their extraction and their publication, by position in the batch: an IPv4
 * request in its 40-byte compact form (the form most messages carry, so a message of consecutive positions is one
 * copy), an IPv6 one in the full form. A message with an IPv6 request carries every request in the full form: its
 * IPv4 ones are expanded then. Not thread-safe.
 */
final class StagedRequests
{
    private final UnsafeBuffer compact;
    private final UnsafeBuffer full;
    private final boolean[] ipv6;
    private final CtRequest expanding = new CtRequest();

    StagedRequests(final int capacity)
    {
        this.compact = new UnsafeBuffer(new byte[capacity * CtRequest.COMPACT_LENGTH]);
        this.full = new UnsafeBuffer(new byte[capacity * CtRequest.LENGTH]);
        this.ipv6 = new boolean[capacity];
    }

    /** Keeps {@code request} as the request of {@code position}. */
    void stage(final int position, final CtRequest request)
    {
        final boolean v6 = request.isIpv6();
        ipv6[position] = v6;
        if (v6)
        {
            request.writeTo(full, position * CtRequest.LENGTH);
        }
        else
        {
            request.writeCompactTo(compact, position * CtRequest.COMPACT_LENGTH);
        }
    }

    /**
     * Writes the requests of positions {@code order[first..first+n)} into the message {@code batch} wraps, in its
     * form: compact (all of them IPv4) as runs of consecutive positions, one copy each; else one full record each.
     */
    void copyTo(final int[] order, final int first, final int n, final boolean compactForm, final BatchFlyweight batch,
        final MutableDirectBuffer out)
    {
        if (compactForm)
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
                out.putBytes(batch.requestOffset(k), compact, position * CtRequest.COMPACT_LENGTH,
                    run * CtRequest.COMPACT_LENGTH);
                k += run;
            }
            return;
        }
        for (int k = 0; k < n; k++)
        {
            final int position = order[first + k];
            if (ipv6[position])
            {
                out.putBytes(batch.requestOffset(k), full, position * CtRequest.LENGTH, CtRequest.LENGTH);
            }
            else
            {
                expanding.readCompactFrom(compact, position * CtRequest.COMPACT_LENGTH).writeTo(out, batch.requestOffset(k));
            }
        }
    }
}
