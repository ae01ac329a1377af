package io.ctrack.transport;

import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Wakes parked buckets. A bucket that finds its stream empty {@link #park parks} (a flag per bucket) and polls
 * once more; a publisher, after committing a batch, {@link #ring rings}: only if the bucket is parked does it
 * clear the flag and send the one wake-up message. Both sides order their write before their read with a full
 * fence, so a batch is never left unseen by a parked bucket. Lock-free.
 */
public final class Doorbells
{
    private static final int RUNNING = 0;
    private static final int PARKED = 1;

    private final AtomicIntegerArray states;
    private final Waker waker;

    public Doorbells(final int buckets, final Waker waker)
    {
        this.states = new AtomicIntegerArray(buckets);
        this.waker = waker;
    }

    /** Called by a publisher after committing to {@code bucket}'s stream. */
    public void ring(final int bucket)
    {
        VarHandle.fullFence();
        if (states.get(bucket) == PARKED && states.compareAndSet(bucket, PARKED, RUNNING))
        {
            waker.wake(bucket);
        }
    }

    /** Called by a bucket that found nothing to do; it must poll once more afterwards. */
    public void park(final int bucket)
    {
        states.set(bucket, PARKED);
    }

    /**
     * Called by a bucket that found work after parking: returns true if it took the flag back itself, false if a
     * publisher already did (and a wake-up message is on its way).
     */
    public boolean unpark(final int bucket)
    {
        return states.compareAndSet(bucket, PARKED, RUNNING);
    }

    public boolean isParked(final int bucket)
    {
        return states.get(bucket) == PARKED;
    }

    /** Delivers a wake-up to a bucket (one message). */
    @FunctionalInterface
    public interface Waker
    {
        void wake(int bucket);
    }
}
