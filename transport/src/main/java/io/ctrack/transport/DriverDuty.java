package io.ctrack.transport;

import org.agrona.concurrent.AgentInvoker;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The duty cycle of an embedded media driver that has no thread of its own, shared by whoever has a moment: idle
 * buckets, packet workers while they wait for room on a stream (which is exactly when publication limits need
 * moving) or have waited a while for verdicts, and a timer in the node when nobody else runs it. One caller at a time: a caller that finds the duty
 * taken simply skips it, nobody ever waits.
 */
public final class DriverDuty
{
    private final AgentInvoker invoker;
    private final AtomicBoolean running = new AtomicBoolean();

    public DriverDuty(final AgentInvoker invoker)
    {
        this.invoker = invoker;
    }

    /** Runs one duty cycle unless another caller is running one; returns the work done (0 if skipped). */
    public int tryInvoke()
    {
        if (!running.compareAndSet(false, true))
        {
            return 0;
        }
        try
        {
            return invoker.invoke();
        }
        finally
        {
            running.set(false);
        }
    }
}
