package io.ctrack.sweeper;

/**
 * How sweeping is paced.
 *
 * @param intervalMs    longest time between two steps for a bucket (also when nothing is due); Open vSwitch's
 *                      {@code ct-set-sweep-interval}. Steps come sooner when something is due.
 * @param minIntervalMs shortest time between steps while a bucket is behind (expired connections left after a step).
 * @param budget        connections a bucket examines at most per step (a step's work is bounded by it).
 */
public record SweepSettings(long intervalMs, long minIntervalMs, int budget)
{
    public static final SweepSettings DEFAULT = new SweepSettings(1_000, 0, 1_000);

    public SweepSettings
    {
        if (intervalMs < 1 || minIntervalMs < 0 || minIntervalMs > intervalMs || budget < 1)
        {
            throw new IllegalArgumentException("sweep settings need interval >= 1 ms, 0 <= min interval <= interval "
                + "and a budget >= 1, got " + intervalMs + " ms, " + minIntervalMs + " ms, " + budget);
        }
    }

    public SweepSettings withIntervalMs(final long ms)
    {
        return new SweepSettings(ms, Math.min(minIntervalMs, ms), budget);
    }
}
