package io.ctrack.engine.status;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A histogram of durations in milliseconds with power-of-two buckets (0, 1, 2-3, 4-7, ... ms), written by one
 * thread and readable by any: the engine uses it for expiry lateness (time a connection was removed minus the
 * time it expired). Percentiles are reported as the upper bound of the bucket they fall in.
 */
public final class LatencyHistogram
{
    private static final int BUCKETS = 40;
    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private volatile long maxMs;

    /** Records one duration (negative counts as 0). Single writer. */
    public void record(final long ms)
    {
        final long v = Math.max(0, ms);
        final int bucket = v == 0 ? 0 : Math.min(BUCKETS - 1, 64 - Long.numberOfLeadingZeros(v));
        counts.lazySet(bucket, counts.get(bucket) + 1);
        if (v > maxMs)
        {
            maxMs = v;
        }
    }

    public long count()
    {
        long n = 0;
        for (int i = 0; i < BUCKETS; i++)
        {
            n += counts.get(i);
        }
        return n;
    }

    public long maxMs()
    {
        return maxMs;
    }

    /** Upper bound (ms) of the bucket holding the {@code percentile}th value; 0 if empty. */
    public long percentileMs(final double percentile)
    {
        final long total = count();
        if (total == 0)
        {
            return 0;
        }
        final long rank = (long)Math.ceil(total * percentile / 100.0);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++)
        {
            seen += counts.get(i);
            if (seen >= rank)
            {
                return Math.min(maxMs, i == 0 ? 0 : (1L << i) - 1);
            }
        }
        return maxMs;
    }

    /** Adds this histogram's counts into {@code into} (for totals over tables). */
    public void addTo(final long[] into)
    {
        for (int i = 0; i < BUCKETS; i++)
        {
            into[i] += counts.get(i);
        }
    }

    /** Bucket count, for arrays given to {@link #addTo}. */
    public static int buckets()
    {
        return BUCKETS;
    }

    /** Percentile over summed bucket counts (see {@link #addTo}). */
    public static long percentileMs(final long[] summed, final long maxMs, final double percentile)
    {
        long total = 0;
        for (final long c : summed)
        {
            total += c;
        }
        if (total == 0)
        {
            return 0;
        }
        final long rank = (long)Math.ceil(total * percentile / 100.0);
        long seen = 0;
        for (int i = 0; i < summed.length; i++)
        {
            seen += summed[i];
            if (seen >= rank)
            {
                return Math.min(maxMs, i == 0 ? 0 : (1L << i) - 1);
            }
        }
        return maxMs;
    }
}
