package io.ctrack.engine.flow;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.function.LongConsumer;

/**
 * A {@link CtService} whose single-pass {@code ct} can be started without waiting for its verdicts, so that a packet
 * thread can prepare its next batch while the connection tables finish this one ({@link OverlappedPipeline}).
 */
public interface AsyncCtService extends CtService
{
    /**
     * The largest run {@link #startSinglePass} sends whole: every bucket's share of it in one visit, evaluated
     * there in full when the pipeline allows it.
     */
    int maxWholeRun();

    /**
     * {@link #ctSinglePass} without waiting: the frames and the fields are read before this returns, the verdicts
     * are written into {@code verdicts} (which must stay valid) by the time {@link #poll} reports {@code tag}.
     * Returns false, having started nothing, when no more batches may be in flight (poll first).
     */
    boolean startSinglePass(FrameBatch frames, ExecParams params, int postCtTable, int generation, DirectBuffer fields,
        long nowMs, MutableDirectBuffer verdicts, long tag);

    /** Reports the tag of every started batch whose verdicts are all in (in any order); returns how many. */
    int poll(LongConsumer finished);

    /** The tags of started batches that are done, until {@link AsyncCtService#poll} reports them. Not thread-safe. */
    final class Finished
    {
        private final org.agrona.collections.LongArrayQueue tags = new org.agrona.collections.LongArrayQueue();

        public void add(final long tag)
        {
            tags.addLong(tag);
        }

        /** Reports every tag, oldest first; returns how many. */
        public int reportTo(final LongConsumer finished)
        {
            int count = 0;
            while (!tags.isEmpty())
            {
                finished.accept(tags.pollLong());
                count++;
            }
            return count;
        }
    }
}
