package io.ctrack.engine;

import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.frag.FragmentReassembler;
import io.ctrack.engine.key.ConnKeyExtractor;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import org.agrona.DirectBuffer;

/**
 * The packet thread's half of tracking: parse the frame, hold or reassemble fragments, and either extract the
 * connection key into a {@link CtRequest} for the table that owns it, or answer at once (invalid packets and
 * held fragments never need a table). The common frame (untagged Ethernet, a plain IPv4 header, UDP or TCP, all
 * valid) takes {@link ConnKeyExtractor#extractIpv4Fast}, one pass over its fixed headers; every other frame, and
 * every frame that fails a check there, takes the general path, which alone decides what is invalid. One per
 * packet thread; nothing is allocated per packet.
 */
public final class PacketPreprocessor
{
    /** {@code request} holds the packet's key: send it to the table. */
    public static final int TRACK = 0;
    /** The packet is answered in {@code verdict} (invalid, or a fragment held for reassembly). */
    public static final int ANSWERED = 1;
    /**
     * The packet completed a fragmented datagram: {@code request} holds the datagram's key. Track it, give its
     * verdict to every fragment ({@link #completedCount()}, {@link #completedTag(int)}), then call
     * {@link #releaseCompleted()}.
     */
    public static final int TRACK_REASSEMBLED = 2;

    private final FrameParser parser = new FrameParser();
    private final ParsedFrame frame = new ParsedFrame();
    private final ConnKeyExtractor extractor = new ConnKeyExtractor();
    private final FragmentReassembler reassembler;
    private final EngineCounters counters;

    public PacketPreprocessor(final FragConfig fragConfig, final EngineCounters counters)
    {
        this.counters = counters;
        this.reassembler = new FragmentReassembler(fragConfig, counters);
    }

    /**
     * Prepares the frame of {@code length} bytes at {@code offset} for tracking in {@code zone}.
     *
     * @param tag the caller's identity for this packet, returned by {@link #completedTag(int)} if the packet is a
     *            fragment whose datagram completes later.
     */
    public int prepare(final DirectBuffer buffer, final int offset, final int length, final int zone, final long tag,
        final long nowMs, final CtRequest request, final Verdict verdict)
    {
        if (extractor.extractIpv4Fast(buffer, offset, length, zone, request) == ConnKeyExtractor.OK)
        {
            return TRACK;
        }
        return prepareGeneral(buffer, offset, length, zone, tag, nowMs, request, verdict);
    }

    /**
     * The common frame's path alone ({@link ConnKeyExtractor#extractIpv4Fast}): true if the frame's key is now in
     * {@code request} (what {@link #prepare} would answer {@link #TRACK}); false if the frame needs
     * {@link #prepareGeneral}. A caller whose loop does only this for most frames stays small enough for the JIT
     * to inline the table's work into it.
     */
    public boolean prepareFast(final DirectBuffer buffer, final int offset, final int length, final int zone,
        final CtRequest request)
    {
        return extractor.extractIpv4Fast(buffer, offset, length, zone, request) == ConnKeyExtractor.OK;
    }

    /** {@link #prepare} for a frame {@link #prepareFast} declined. */
    public int prepareGeneral(final DirectBuffer buffer, final int offset, final int length, final int zone,
        final long tag, final long nowMs, final CtRequest request, final Verdict verdict)
    {
        parser.parse(buffer, offset, length, frame);
        ParsedFrame toTrack = frame;
        boolean verifyIpChecksum = true;
        int outcome = TRACK;
        switch (reassembler.offer(frame, zone, tag, nowMs))
        {
            case FragmentReassembler.INVALID:
                verdict.invalid(reassembler.lastReason());
                return ANSWERED;
            case FragmentReassembler.HELD:
                verdict.held();
                return ANSWERED;
            case FragmentReassembler.COMPLETED:
                toTrack = reassembler.reassembled();
                verifyIpChecksum = false;
                outcome = TRACK_REASSEMBLED;
                break;
            default:
                break;
        }
        final int result = extractor.extract(toTrack, zone, verifyIpChecksum, request);
        if (result != ConnKeyExtractor.OK)
        {
            counters.increment(EngineCounter.byId(result));
            verdict.invalid(result);
            if (outcome == TRACK_REASSEMBLED)
            {
                // The whole datagram is invalid: its fragments share the verdict.
                return TRACK_REASSEMBLED | INVALID_DATAGRAM;
            }
            return ANSWERED;
        }
        return outcome;
    }

    /** Or'ed into {@link #TRACK_REASSEMBLED} when the datagram itself is invalid and already answered. */
    public static final int INVALID_DATAGRAM = 0x10;

    public int completedCount()
    {
        return reassembler.completedCount();
    }

    public long completedTag(final int i)
    {
        return reassembler.completedTag(i);
    }

    public void releaseCompleted()
    {
        reassembler.releaseCompleted();
    }

    /**
     * Ends a batch: forgets the datagrams completed in it ({@link FragmentReassembler#endBatch()}) and drops
     * datagrams whose fragments waited too long; {@code dropped} receives each dropped fragment's tag.
     */
    public int endBatch(final long nowMs, final FragmentReassembler.TagSink dropped)
    {
        reassembler.endBatch();
        return reassembler.expire(nowMs, dropped);
    }

    public int heldFragments()
    {
        return reassembler.heldFragments();
    }
}
