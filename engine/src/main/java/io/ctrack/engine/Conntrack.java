package io.ctrack.engine;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.table.ConnTable;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.engine.table.LocalLimits;
import io.ctrack.engine.timeout.TimeoutPolicies;
import org.agrona.MutableDirectBuffer;

/**
 * The embedded engine: one thread, one {@link ConnTable}, Open vSwitch's {@code conntrack_execute} for a batch of
 * frames. Fragments held in one batch and completed in a later one get their verdict through
 * {@link FragmentListener}; within a batch, every fragment of a completed datagram gets the datagram's verdict.
 * Not thread-safe.
 */
public final class Conntrack
{
    private final PacketPreprocessor preprocessor;
    private final ConnTable table;
    private final LocalLimits limits = new LocalLimits();
    private final TimeoutPolicies policies = new TimeoutPolicies();
    private final EngineCounters counters;
    private final CtRequest request = new CtRequest();
    private final Verdict verdict = new Verdict();
    private final Verdict other = new Verdict();
    /** The table's verdict with its NAT part, for batches executed with a NAT action. */
    private final Verdict natVerdict = new Verdict().wrap(new org.agrona.concurrent.UnsafeBuffer(new byte[Verdict.NAT_LENGTH]), 0);
    private final io.ctrack.engine.nat.NatRewriter rewriter = new io.ctrack.engine.nat.NatRewriter();
    private FragmentListener fragmentListener = FragmentListener.NONE;
    private long nextTag = 1;

    public Conntrack(final ConnTableConfig tableConfig, final FragConfig fragConfig)
    {
        this.counters = new EngineCounters();
        this.preprocessor = new PacketPreprocessor(fragConfig, counters);
        this.table = new ConnTable(tableConfig, policies, limits, counters);
    }

    /** An engine with default sizing. */
    public Conntrack()
    {
        this(ConnTableConfig.of(0, 1024), FragConfig.DEFAULT);
    }

    public Conntrack fragmentListener(final FragmentListener listener)
    {
        this.fragmentListener = listener;
        return this;
    }

    /**
     * Tracks every frame of {@code batch} with action {@code params} at {@code nowMs}; the verdict of frame
     * {@code i} is written at {@code verdicts} offset {@code verdictOffset + i * Verdict.LENGTH}. With a NAT
     * action, frames whose connection is translated are rewritten in place (their buffers must be mutable);
     * fragments are not rewritten ({@link EngineCounter#NAT_NOT_REWRITTEN}).
     */
    public void execute(final FrameBatch batch, final ExecParams params, final long nowMs,
        final MutableDirectBuffer verdicts, final int verdictOffset)
    {
        execute(batch, params, null, nowMs, verdicts, verdictOffset, Verdict.LENGTH, true, null);
    }

    /** Told about each packet the table tracked: its index in the batch, its request, its verdict. */
    @FunctionalInterface
    public interface Tracked
    {
        void tracked(int index, CtRequest request, Verdict verdict, boolean answered);
    }

    /**
     * {@link #execute(FrameBatch, ExecParams, long, MutableDirectBuffer, int)} with the options a pipeline needs:
     * {@code inStates[i]} (or null) is the ct_state frame {@code i} already carries; verdicts are
     * {@code stride} bytes apart ({@link Verdict#NAT_LENGTH} keeps their NAT part); {@code rewrite} false leaves the
     * frames as they are (the caller rewrites them later); {@code tracked} (or null) hears of every tracked packet.
     */
    public void execute(final FrameBatch batch, final ExecParams params, final int[] inStates, final long nowMs,
        final MutableDirectBuffer verdicts, final int verdictOffset, final int stride, final boolean rewrite,
        final Tracked tracked)
    {
        final long batchBase = nextTag;
        final int count = batch.count();
        nextTag += count;
        counters.add(EngineCounter.PACKETS, count);
        final boolean wide = stride >= Verdict.NAT_LENGTH;
        // The common batch (no NAT, no carried ct_state, no listener) takes a loop of its own: the common frame's
        // key extraction and the table, nothing else, so that the JIT compiles the table's work into it (JMH
        // EstablishedUdp 25.8 against 29.7 ns per packet with one loop for every case: docs/BENCHMARKS.md).
        final boolean plain = params.nat() == null && !wide && inStates == null && tracked == null;
        final int zone = params.zone();
        for (int i = 0; i < count; i++)
        {
            verdict.wrap(verdicts, verdictOffset + i * stride);
            if (plain && preprocessor.prepareFast(batch.buffer(i), batch.offset(i), batch.length(i), zone, request))
            {
                table.execute(request, params, nowMs, verdict);
            }
            else
            {
                executeOne(batch, i, plain, params, inStates, nowMs, verdicts, verdictOffset, stride, rewrite, tracked,
                    batchBase, count);
            }
        }
        preprocessor.endBatch(nowMs, fragmentListener::onDropped);
    }

    /**
     * Tracks frame {@code i} of a batch on the general path: a frame the fast extraction declined
     * ({@code fastTried}), or any frame of a batch with NAT, carried ct_state or a listener.
     */
    private void executeOne(final FrameBatch batch, final int i, final boolean fastTried, final ExecParams params,
        final int[] inStates, final long nowMs, final MutableDirectBuffer verdicts, final int verdictOffset,
        final int stride, final boolean rewrite, final Tracked tracked, final long batchBase, final int count)
    {
        final int outcome = fastTried
            ? preprocessor.prepareGeneral(batch.buffer(i), batch.offset(i), batch.length(i), params.zone(),
                batchBase + i, nowMs, request, verdict)
            : preprocessor.prepare(batch.buffer(i), batch.offset(i), batch.length(i), params.zone(), batchBase + i,
                nowMs, request, verdict);
        if (outcome == PacketPreprocessor.ANSWERED)
        {
            return;
        }
        final boolean wide = stride >= Verdict.NAT_LENGTH;
        if ((outcome & PacketPreprocessor.INVALID_DATAGRAM) == 0)
        {
            if (inStates != null)
            {
                request.inState(inStates[i]);
            }
            if (params.nat() == null && !wide)
            {
                table.execute(request, params, nowMs, verdict);
            }
            else
            {
                final Verdict full = wide ? verdict : natVerdict;
                table.execute(request, params, nowMs, full);
                if (!wide)
                {
                    natVerdict.copyTo(verdict);
                }
                if (full.hasNat() && rewrite)
                {
                    final org.agrona.DirectBuffer frame = batch.buffer(i);
                    if (outcome != PacketPreprocessor.TRACK || !(frame instanceof MutableDirectBuffer)
                        || !rewriter.apply((MutableDirectBuffer)frame, batch.offset(i), batch.length(i), full))
                    {
                        counters.increment(EngineCounter.NAT_NOT_REWRITTEN);
                    }
                }
            }
            if (tracked != null)
            {
                tracked.tracked(i, request, verdict, table.lastOutcome() == ConnTable.OUTCOME_ANSWERED);
            }
        }
        if ((outcome & PacketPreprocessor.TRACK_REASSEMBLED) != 0)
        {
            for (int f = 0; f < preprocessor.completedCount(); f++)
            {
                final long tag = preprocessor.completedTag(f);
                if (tag >= batchBase && tag < batchBase + count)
                {
                    verdict.copyTo(other.wrap(verdicts, verdictOffset + (int)(tag - batchBase) * stride));
                }
                else
                {
                    fragmentListener.onVerdict(tag, verdict);
                }
            }
            preprocessor.releaseCompleted();
        }
    }

    /** Applies the NAT part of {@code verdict} to a frame; false (counted) if it cannot be. */
    public boolean rewrite(final FrameBatch batch, final int i, final Verdict verdict)
    {
        final org.agrona.DirectBuffer frame = batch.buffer(i);
        if (frame instanceof MutableDirectBuffer
            && rewriter.apply((MutableDirectBuffer)frame, batch.offset(i), batch.length(i), verdict))
        {
            return true;
        }
        counters.increment(EngineCounter.NAT_NOT_REWRITTEN);
        return false;
    }

    /** The tag the next frame will get (tags count frames from 1, across batches). */
    public long nextTag()
    {
        return nextTag;
    }

    public ConnTable table()
    {
        return table;
    }

    public LocalLimits limits()
    {
        return limits;
    }

    public TimeoutPolicies policies()
    {
        return policies;
    }

    public EngineCounters counters()
    {
        return counters;
    }

    public long counter(final EngineCounter counter)
    {
        return counters.get(counter);
    }

    /** Hears about fragments whose verdict comes after the batch they arrived in. */
    public interface FragmentListener
    {
        FragmentListener NONE = new FragmentListener()
        {
            @Override
            public void onVerdict(final long tag, final Verdict verdict)
            {
            }

            @Override
            public void onDropped(final long tag)
            {
            }
        };

        /** Fragment {@code tag}, held in an earlier batch, belongs to a datagram that got {@code verdict}. */
        void onVerdict(long tag, Verdict verdict);

        /** Fragment {@code tag} was dropped: its datagram never completed. */
        void onDropped(long tag);
    }
}
