package io.ctrack.engine.testing;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.DumpFormat;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.ConnKeyExtractor;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.table.ConnEntry;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Drives an embedded {@link Conntrack} one frame or one batch at a time, with {@code now} always passed by the
 * test, and answers in plain values ({@code "new|trk"}, copied {@link Verdict}s, dump lines). Not thread-safe.
 */
public final class ConntrackDriver
{
    private final Conntrack conntrack;
    private final ExecParams params = ExecParams.commit(0);
    private final FrameParser parser = new FrameParser();
    private final ParsedFrame parsed = new ParsedFrame();
    private final ConnKeyExtractor extractor = new ConnKeyExtractor();

    public ConntrackDriver()
    {
        this(new Conntrack());
    }

    public ConntrackDriver(final Conntrack conntrack)
    {
        this.conntrack = conntrack;
    }

    public Conntrack conntrack()
    {
        return conntrack;
    }

    /** The action used by {@link #send(byte[], long)} and {@link #batch(long, byte[]...)}: commit, zone 0 at first. */
    public ExecParams params()
    {
        return params;
    }

    /** Tracks one frame with {@link #params()} at {@code nowMs}; returns a copy of its verdict. */
    public Verdict send(final byte[] frame, final long nowMs)
    {
        return send(frame, params, nowMs);
    }

    /** Tracks one frame with {@code p} at {@code nowMs}; returns a copy of its verdict. */
    public Verdict send(final byte[] frame, final ExecParams p, final long nowMs)
    {
        return batch(p, nowMs, frame).get(0);
    }

    /** {@code new|trk}-style flags of one frame tracked with {@link #params()}. */
    public String flags(final byte[] frame, final long nowMs)
    {
        return CtState.format(send(frame, nowMs).ctState());
    }

    /** Tracks the frames as one batch with {@link #params()}; returns a copy of each verdict, in order. */
    public List<Verdict> batch(final long nowMs, final byte[]... frames)
    {
        return batch(params, nowMs, frames);
    }

    /** Tracks the frames as one batch with {@code p}; returns a copy of each verdict, in order. */
    public List<Verdict> batch(final ExecParams p, final long nowMs, final byte[]... frames)
    {
        final FrameBatch batch = new FrameBatch(frames.length);
        for (final byte[] frame : frames)
        {
            batch.add(TestPackets.buffer(frame), 0, frame.length);
        }
        final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[frames.length * Verdict.LENGTH]);
        conntrack.execute(batch, p, nowMs, verdicts, 0);
        final List<Verdict> out = new ArrayList<>(frames.length);
        for (int i = 0; i < frames.length; i++)
        {
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[Verdict.LENGTH]);
            copy.putBytes(0, verdicts, i * Verdict.LENGTH, Verdict.LENGTH);
            out.add(new Verdict().wrap(copy, 0));
        }
        return out;
    }

    /** Flags of each frame of one batch. */
    public List<String> batchFlags(final long nowMs, final byte[]... frames)
    {
        final List<String> out = new ArrayList<>();
        for (final Verdict v : batch(nowMs, frames))
        {
            out.add(CtState.format(v.ctState()));
        }
        return out;
    }

    /**
     * The connection key of {@code frame} in {@code zone}, as the packet path extracts it (no reassembly).
     *
     * @throws IllegalArgumentException if the frame is invalid, naming the reason.
     */
    public CtRequest key(final byte[] frame, final int zone)
    {
        parser.parse(TestPackets.buffer(frame), 0, frame.length, parsed);
        final CtRequest request = new CtRequest();
        final int result = extractor.extract(parsed, zone, true, request);
        if (result != ConnKeyExtractor.OK)
        {
            throw new IllegalArgumentException("frame is invalid: " + EngineCounter.byId(result));
        }
        return request;
    }

    /** The live connection {@code frame} belongs to in {@link #params()}'s zone, or null (a view: use at once). */
    public ConnEntry find(final byte[] frame, final long nowMs)
    {
        return conntrack.table().find(key(frame, params.zone()), nowMs);
    }

    /** The dump line of the connection {@code frame} belongs to, or null. */
    public String dump(final byte[] frame, final long nowMs)
    {
        final ConnEntry e = find(frame, nowMs);
        return e == null ? null : DumpFormat.format(e);
    }

    /** Every live connection's dump line, sorted. */
    public List<String> dumpAll(final long nowMs)
    {
        final List<String> lines = new ArrayList<>();
        conntrack.table().forEach(-1, nowMs, e -> lines.add(DumpFormat.format(e)));
        Collections.sort(lines);
        return lines;
    }

    public long counter(final EngineCounter counter)
    {
        return conntrack.counter(counter);
    }
}
