package io.ctrack.app.bench;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.transport.PacketWorker;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Keeps up to {@code inFlight} batches in flight on one worker and records each batch's round trip (submit to
 * last verdict) in a histogram. Verdict buffers are one region per in-flight slot. Not thread-safe: one per
 * packet thread.
 */
final class Pipeline
{
    private final PacketWorker worker;
    private final int inFlight;
    private final int mask;
    private final UnsafeBuffer verdicts;
    private final long[] submittedNs;
    private final int batchCapacity;
    private final Histogram latency = new Histogram(3_600_000_000_000L, 3);
    private int outstanding;
    private long completedBatches;
    private boolean recording = true;
    private VerdictCheck check;
    /**
     * A packet thread with nothing to poll backs off: a few spins, then many yields (on a machine with fewer cores
     * than busy threads the bucket threads need that time), then short parks.
     */
    private IdleStrategy idle = new BackoffIdleStrategy(20, 50, 1_000, 10_000);

    /** Looks at each completed batch's verdicts (for benches that verify them). */
    @FunctionalInterface
    interface VerdictCheck
    {
        void onBatch(UnsafeBuffer verdicts, int offset, long tag);
    }

    Pipeline(final PacketWorker worker, final int inFlight, final int batchCapacity)
    {
        if (Integer.bitCount(inFlight) != 1)
        {
            throw new IllegalArgumentException("in-flight batches must be a power of two, got " + inFlight);
        }
        this.worker = worker;
        this.inFlight = inFlight;
        this.mask = inFlight - 1;
        this.batchCapacity = batchCapacity;
        this.verdicts = new UnsafeBuffer(new byte[inFlight * batchCapacity * Verdict.LENGTH]);
        this.submittedNs = new long[inFlight];
        worker.completion(this::onComplete);
    }

    /**
     * Polls without ever yielding or parking: for a packet thread whose latency is being measured on a machine where
     * it has a core of its own (a parked thread's wake-up would be part of every sample).
     */
    Pipeline busySpin()
    {
        this.idle = new org.agrona.concurrent.BusySpinIdleStrategy();
        return this;
    }

    Pipeline check(final VerdictCheck check)
    {
        this.check = check;
        return this;
    }

    private void onComplete(final int seq, final long tag)
    {
        final int slot = seq & mask;
        if (recording)
        {
            latency.recordValue(Math.max(0, System.nanoTime() - submittedNs[slot]));
        }
        if (check != null)
        {
            check.onBatch(verdicts, slot * batchCapacity * Verdict.LENGTH, tag);
        }
        outstanding--;
        completedBatches++;
    }

    /** Submits a batch, first waiting (polling) for a free in-flight slot. */
    void submit(final FrameBatch frames, final ExecParams params, final long nowMs, final long tag)
    {
        while (true)
        {
            if (outstanding < inFlight)
            {
                final int slot = worker.nextSeq() & mask;
                submittedNs[slot] = System.nanoTime();
                outstanding++;
                final int seq = worker.submit(frames, params, nowMs, verdicts, slot * batchCapacity * Verdict.LENGTH, tag);
                if (seq >= 0)
                {
                    return;
                }
                outstanding--;
            }
            waitOnce();
        }
    }

    /** One turn of waiting: verdicts if any have come, else the node's waiting work (if it asks for help), else idle. */
    private void waitOnce()
    {
        if (worker.poll() > 0 || worker.help())
        {
            idle.reset();
        }
        else
        {
            idle.idle();
        }
    }

    /** Polls until every submitted batch is complete. */
    void drain()
    {
        while (outstanding > 0)
        {
            waitOnce();
        }
    }

    Histogram latency()
    {
        return latency;
    }

    void recording(final boolean on)
    {
        this.recording = on;
    }

    long completedBatches()
    {
        return completedBatches;
    }
}
