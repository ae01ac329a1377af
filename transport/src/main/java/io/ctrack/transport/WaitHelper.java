package io.ctrack.transport;

/**
 * Work a packet thread can do while it waits for verdicts instead of spinning or parking: the node's bucket tasks
 * (see the bucket executor in {@code shards}). An actor's mailbox still runs on one thread at a time, so a bucket
 * run by a packet thread is still the only owner of its table.
 */
@FunctionalInterface
public interface WaitHelper
{
    /** Helps nobody. */
    WaitHelper NONE = () -> false;

    /** Runs one piece of waiting work on the calling thread; false if there was none (or helping is off). */
    boolean helpOnce();
}
