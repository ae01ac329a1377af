package io.ctrack.transport;

import io.aeron.Aeron;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.PacketPreprocessor;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.transport.wire.VerdictBatchFlyweight;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;

/**
 * What a packet-processing thread uses to track its packets. It parses each frame, reassembles fragments,
 * extracts and hashes the key, answers at once what needs no table (invalid packets, held fragments), groups the
 * rest by bucket (the top bits of the symmetric hash), publishes one batch message per bucket into claimed Aeron
 * space, rings the buckets' doorbells, and collects the verdicts into the caller's buffer at each packet's
 * position. Several batches may be in flight ({@link #submit} then {@link #poll}); {@link #process} is the
 * synchronous form.
 * <p>
 * Nothing is lost silently: a batch the bucket stream will not take within the publish timeout is answered
 * "dropped" ({@code DROPPED_BACK_PRESSURE}), and a batch whose verdicts do not all come back within the verdict
 * timeout has its missing packets answered "dropped" ({@code DROPPED_VERDICT_TIMEOUT}). While it waits on
 * back-pressure it keeps draining verdicts, so a worker and its buckets can never wait on each other.
 * <p>
 * Not thread-safe: one worker per packet thread. Completion callbacks run on that thread, from {@link #poll},
 * {@link #submit} or {@link #process}.
 */
public final class PacketWorker implements AutoCloseable
{
    /** Most packets in one batch. */
    public static final int MAX_BATCH = 1024;

    /** How long {@link #process} waits for its verdicts without parking (spinning, yielding now and then). */
    static final long VERDICT_WAIT_SPIN_NS = 200_000;
    /** While it waits so, {@link #process} yields its core once every this many + 1 empty polls. */
    private static final int YIELD_EVERY_MASK = 15;

    private final int workerId;
    private final int bucketBits;
    private final int buckets;
    private final TransportConfig config;
    private final RequestStreams streams;
    private final Subscription verdictSubscription;
    private final PacketPreprocessor preprocessor;
    private final EngineCounters counters;
    private final IdleStrategy idle = new BackoffIdleStrategy(50, 10, 1_000, 100_000);
    private final FragmentHandler verdictHandler = this::onVerdicts;

    private final CtRequest request = new CtRequest();
    private final StagedRequests requests = new StagedRequests(MAX_BATCH);
    private final int[] bucketOfPosition = new int[MAX_BATCH];
    private final int[] countByBucket;
    /** IPv6 requests per bucket in the batch being submitted: a bucket's message is compact when it has none. */
    private final int[] ipv6ByBucket;
    /** Per bucket, this batch's requests without the short form (TCP, ICMP, IPv6, a ct_state carried in). */
    private final int[] notShortByBucket;
    private final int[] startByBucket;
    private final int[] order = new int[MAX_BATCH];
    private final VerdictBatchFlyweight verdictBatch = new VerdictBatchFlyweight();
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private final Verdict verdict = new Verdict();
    private final Verdict other = new Verdict();
    private final io.ctrack.engine.nat.NatRewriter natRewriter = new io.ctrack.engine.nat.NatRewriter();

    private final InFlightBatch[] tickets;
    private final int ticketMask;
    /** The ticket being submitted: never expired from inside its own submit (its publish retries poll). */
    private InFlightBatch submitting;
    private long nextExpiryCheckNs;
    private int nextSeq;
    private long nextTag = 1;
    private Completion completion = (seq, tag) -> { };
    private DriverDuty driverDuty;
    private WaitHelper helper = WaitHelper.NONE;
    private int emptyPolls;
    private Conntrack.FragmentListener fragmentListener = Conntrack.FragmentListener.NONE;

    /**
     * @param bucketBits  log2 of the number of buckets (0 for one bucket).
     * @param maxInFlight batches that may be in flight at once (a power of two).
     */
    public PacketWorker(final int workerId, final Aeron aeron, final TransportConfig config, final int bucketBits,
        final Doorbells doorbells, final FragConfig fragConfig, final EngineCounters counters, final int maxInFlight)
    {
        if (bucketBits < 0 || bucketBits > 16)
        {
            throw new IllegalArgumentException("bucketBits must be 0-16, got " + bucketBits);
        }
        if (Integer.bitCount(maxInFlight) != 1)
        {
            throw new IllegalArgumentException("maxInFlight must be a power of two, got " + maxInFlight);
        }
        this.workerId = workerId;
        this.bucketBits = bucketBits;
        this.buckets = 1 << bucketBits;
        this.config = config;
        this.counters = counters;
        this.preprocessor = new PacketPreprocessor(fragConfig, counters);
        this.countByBucket = new int[buckets];
        this.ipv6ByBucket = new int[buckets];
        this.notShortByBucket = new int[buckets];
        this.startByBucket = new int[buckets + 1];
        this.verdictSubscription = aeron.addSubscription("aeron:ipc", config.verdictStream(workerId));
        this.streams = new RequestStreams(workerId, aeron, config, buckets, doorbells, counters, this::poll);
        this.tickets = new InFlightBatch[maxInFlight];
        for (int i = 0; i < maxInFlight; i++)
        {
            tickets[i] = new InFlightBatch();
        }
        this.ticketMask = maxInFlight - 1;
    }

    /** The bucket a request with this hash belongs to. */
    public static int bucketOf(final int hash, final int bucketBits)
    {
        return bucketBits == 0 ? 0 : hash >>> (32 - bucketBits);
    }

    public int workerId()
    {
        return workerId;
    }

    public PacketWorker completion(final Completion completion)
    {
        this.completion = completion;
        return this;
    }

    /**
     * Lets this worker run the media driver's duty cycle (INVOKER mode) when it waits for room on a stream or has
     * waited a while for verdicts; or null.
     */
    public PacketWorker driverDuty(final DriverDuty duty)
    {
        this.driverDuty = duty;
        streams.driverDuty(duty);
        return this;
    }

    /** What this worker's thread does while it waits for verdicts ({@link #help()}), instead of only waiting. */
    public PacketWorker helper(final WaitHelper waitHelper)
    {
        this.helper = waitHelper;
        return this;
    }

    /**
     * For callers with their own wait loop (those of {@link #submit}): runs one piece of the node's waiting work on
     * this thread if the node asks packet threads to help; false if there was none.
     */
    public boolean help()
    {
        return helper.helpOnce();
    }

    public PacketWorker fragmentListener(final Conntrack.FragmentListener listener)
    {
        this.fragmentListener = listener;
        return this;
    }

    /**
     * The most single-pass requests a batch may hold and still reach every bucket whole (one message each, whatever
     * the hashes): a larger share goes as a plain ct ({@code PIPELINE_SHARES_TOO_LARGE}).
     */
    public int singlePassCapacity()
    {
        return streams.pipelineCapacity();
    }

    /** True once every bucket stream has its subscriber and the verdict stream has every bucket's publisher. */
    public boolean isConnected()
    {
        return streams.isConnected() && verdictSubscription.imageCount() >= buckets;
    }

    /**
     * Tracks a batch and waits for its verdicts: verdict {@code i} is written at {@code verdictOffset + i * 32}.
     */
    public void process(final FrameBatch frames, final ExecParams params, final long nowMs,
        final MutableDirectBuffer verdicts, final int verdictOffset)
    {
        process(frames, params, nowMs, verdicts, verdictOffset, PLAIN);
    }

    /** {@link #process(FrameBatch, ExecParams, long, MutableDirectBuffer, int)} with a pipeline's {@link Options}. */
    public void process(final FrameBatch frames, final ExecParams params, final long nowMs,
        final MutableDirectBuffer verdicts, final int verdictOffset, final Options options)
    {
        int seq;
        while ((seq = submit(frames, params, nowMs, verdicts, verdictOffset, 0, options)) < 0)
        {
            if (poll() == 0 && !helper.helpOnce())
            {
                idle.idle();
            }
        }
        final InFlightBatch ticket = tickets[seq & ticketMask];
        idle.reset();
        // The caller has nothing else to do: wait through a round trip (tens of microseconds) without parking,
        // since a park lasts at least the kernel's timer slack (about 50 us) and would double a batch's latency.
        // Yield every few polls, so that a bucket thread sharing this core (more threads than cores) still runs.
        final long spinUntil = System.nanoTime() + VERDICT_WAIT_SPIN_NS;
        int polls = 0;
        while (ticket.inUse && ticket.seq == seq)
        {
            if (poll() == 0)
            {
                if (helper.helpOnce())
                {
                    idle.reset();
                }
                else if (System.nanoTime() - spinUntil >= 0)
                {
                    idle.idle();
                }
                else if ((++polls & YIELD_EVERY_MASK) == 0)
                {
                    Thread.yield();
                }
                else
                {
                    Thread.onSpinWait();
                }
            }
            else
            {
                idle.reset();
            }
        }
    }

    /**
     * Starts tracking a batch. The frames are read before this returns, except with a NAT action: then translated
     * packets are rewritten in place when their verdicts arrive, so the frames (mutable buffers) must stay valid too
     * until the batch completes. {@code verdicts} must stay valid until the
     * batch completes ({@link Completion}). Returns the batch's sequence number, or -1 if {@link #poll} must
     * complete earlier batches first (all in-flight slots are taken).
     */
    public int submit(final FrameBatch frames, final ExecParams params, final long nowMs,
        final MutableDirectBuffer verdicts, final int verdictOffset, final long userTag)
    {
        return submit(frames, params, nowMs, verdicts, verdictOffset, userTag, PLAIN);
    }

    /** {@link #submit(FrameBatch, ExecParams, long, MutableDirectBuffer, int, long)} with {@link Options}. */
    public int submit(final FrameBatch frames, final ExecParams params, final long nowMs,
        final MutableDirectBuffer verdicts, final int verdictOffset, final long userTag, final Options options)
    {
        final int count = frames.count();
        if (count > MAX_BATCH)
        {
            throw new IllegalArgumentException("batch of " + count + " packets, at most " + MAX_BATCH);
        }
        final int seq = nextSeq;
        final InFlightBatch ticket = tickets[seq & ticketMask];
        if (ticket.inUse)
        {
            return -1;
        }
        nextSeq++;
        submitting = ticket;
        try
        {
            return submit(ticket, seq, frames, params, nowMs, verdicts, verdictOffset, userTag, options);
        }
        finally
        {
            submitting = null;
        }
    }

    private int submit(final InFlightBatch ticket, final int seq, final FrameBatch frames, final ExecParams params,
        final long nowMs, final MutableDirectBuffer verdicts, final int verdictOffset, final long userTag,
        final Options options)
    {
        final int stride = options.verdictStride;
        final int count = frames.count();
        final long tagBase = nextTag;
        nextTag += count;
        ticket.start(seq, verdicts, verdictOffset, count, tagBase, userTag, System.nanoTime() + config.verdictTimeoutNs());
        ticket.stride = stride;
        if (params.nat() != null)
        {
            // Translated packets are rewritten when their verdicts arrive: keep where the frames are.
            ticket.keepFrames(frames);
        }
        counters.add(EngineCounter.PACKETS, count);

        Arrays.fill(countByBucket, 0);
        Arrays.fill(ipv6ByBucket, 0);
        Arrays.fill(notShortByBucket, 0);
        int tracked = 0;
        // The common frame takes the key extractor's fast path and nothing else before its request is staged;
        // every other frame (and every frame of a batch carrying ct_state in) goes through prepareOther, out of
        // this loop, so that the loop stays small for the JIT (see Conntrack.execute).
        final boolean plain = options.inStates == null;
        final int zone = params.zone();
        for (int i = 0; i < count; i++)
        {
            final Verdict v = verdict.wrap(verdicts, verdictOffset + i * stride);
            if (!(plain && preprocessor.prepareFast(frames.buffer(i), frames.offset(i), frames.length(i), zone, request))
                && !prepareOther(ticket, frames, i, plain, zone, tagBase, nowMs, v, options))
            {
                bucketOfPosition[i] = -1;
                continue;
            }
            final int b = bucketOf(request.hash(), bucketBits);
            bucketOfPosition[i] = b;
            countByBucket[b]++;
            if (request.isIpv6())
            {
                ipv6ByBucket[b]++;
            }
            if (!requests.stage(i, request))
            {
                notShortByBucket[b]++;
            }
            v.dropped(EngineCounter.DROPPED_VERDICT_TIMEOUT.id());
            tracked++;
        }
        preprocessor.endBatch(nowMs, fragmentListener::onDropped);
        if (tracked == 0)
        {
            ticket.outstanding = 0;
            finish(ticket);
            return seq;
        }

        // Group positions by bucket (counting sort), then one message per bucket (split if larger than a frame).
        int start = 0;
        for (int b = 0; b < buckets; b++)
        {
            startByBucket[b] = start;
            start += countByBucket[b];
        }
        startByBucket[buckets] = start;
        for (int i = 0; i < count; i++)
        {
            final int b = bucketOfPosition[i];
            if (b >= 0)
            {
                order[startByBucket[b]++] = i;
            }
        }
        ticket.outstanding = tracked;
        int from = 0;
        for (int b = 0; b < buckets; b++)
        {
            final int to = from + countByBucket[b];
            if (to > from)
            {
                final int form = notShortByBucket[b] == 0 ? StagedRequests.SHORT
                    : ipv6ByBucket[b] == 0 ? StagedRequests.COMPACT : StagedRequests.FULL;
                streams.publish(b, order, from, to, form, requests, seq, nowMs, params, options, ticket);
            }
            from = to;
        }
        if (ticket.outstanding == 0 && ticket.inUse && ticket.seq == seq)
        {
            finish(ticket);
        }
        return seq;
    }

    /**
     * Collects verdicts that have arrived and completes batches that have all theirs, or whose verdict timeout
     * passed. Returns the number of verdict messages read.
     */
    public int poll()
    {
        final int read = verdictSubscription.poll(verdictHandler, 64);
        if (read == 0 && (++emptyPolls & EMPTY_POLLS_PER_CHECK_MASK) == 0)
        {
            // While waiting, now and then, look at deadlines (reading the clock on every empty poll would cost more
            // than the poll).
            final long now = System.nanoTime();
            if (now - nextExpiryCheckNs >= 0)
            {
                nextExpiryCheckNs = now + EXPIRY_CHECK_PERIOD_NS;
                expireTickets(now);
                // The media driver's duty is the idle buckets' job (and the node's timer's): a packet thread is
                // usually the busiest thread, and the driver's work (mostly zeroing consumed stream space) was ~5 %
                // of its profile; handing it to the buckets made bench established ~11 % faster. It runs it only when it has waited a while, or when it waits for room on a
                // stream (claim), whose limit only the driver moves.
                if (driverDuty != null)
                {
                    driverDuty.tryInvoke();
                }
            }
        }
        return read;
    }

    private static final int EMPTY_POLLS_PER_CHECK_MASK = 63;

    /** Deadlines are checked at most this often: a timeout fires up to this much late. */
    private static final long EXPIRY_CHECK_PERIOD_NS = 1_000_000;

    private void expireTickets(final long now)
    {
        for (final InFlightBatch ticket : tickets)
        {
            if (ticket.inUse && ticket != submitting && now - ticket.deadlineNs > 0)
            {
                // Positions still waiting were pre-answered "dropped: verdict timeout".
                counters.add(EngineCounter.DROPPED_VERDICT_TIMEOUT, ticket.outstanding);
                finish(ticket);
            }
        }
    }

    private void onVerdicts(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        view.wrap(buffer, offset, length);
        verdictBatch.wrap(view, 0);
        final int seq = verdictBatch.batchSeq();
        final InFlightBatch ticket = tickets[seq & ticketMask];
        if (!ticket.inUse || ticket.seq != seq)
        {
            // A batch already completed by its timeout: its packets were answered "dropped".
            return;
        }
        final int count = verdictBatch.count();
        int answered = 0;
        for (int i = 0; i < count; i++)
        {
            final int position = verdictBatch.position(i);
            final Verdict v = verdictBatch.verdict(i);
            if (v.isDeferred())
            {
                // Answered later, by another message (a NAT reservation or the bucket owning the connection).
                continue;
            }
            answered++;
            other.wrap(ticket.verdicts, ticket.verdictOffset + position * ticket.stride);
            if (ticket.stride >= Verdict.NAT_LENGTH)
            {
                v.copyWithNatTo(other);
            }
            else
            {
                v.copyTo(other);
            }
            if (v.hasNat())
            {
                rewrite(ticket, position, v);
            }
            if (ticket.fragmentGroups > 0)
            {
                fanOut(ticket, position, v);
            }
        }
        ticket.outstanding -= answered;
        if (ticket.outstanding <= 0)
        {
            finish(ticket);
        }
    }

    /** Applies a verdict's NAT rewrite to the frame it answers (not to reassembled fragments). */
    private void rewrite(final InFlightBatch ticket, final int position, final Verdict v)
    {
        final DirectBuffer frame = ticket.frameBuffers[position];
        if (frame instanceof MutableDirectBuffer && !ticket.isFragmentGroup(position)
            && natRewriter.apply((MutableDirectBuffer)frame, ticket.frameOffsets[position], ticket.frameLengths[position], v))
        {
            return;
        }
        counters.increment(EngineCounter.NAT_NOT_REWRITTEN);
    }

    /** Gives the verdict of a reassembled datagram (at {@code position}) to each of its fragments. */
    /**
     * Prepares frame {@code i} that {@link #submit}'s common path did not take ({@code fastTried}: the fast path
     * already declined it): true if {@link #request} now holds a request to publish, false if the frame is
     * answered (invalid, held, or a fragment of an invalid datagram, whose fragments get its verdict).
     */
    private boolean prepareOther(final InFlightBatch ticket, final FrameBatch frames, final int i, final boolean fastTried,
        final int zone, final long tagBase, final long nowMs, final Verdict v, final Options options)
    {
        final int outcome = fastTried
            ? preprocessor.prepareGeneral(frames.buffer(i), frames.offset(i), frames.length(i), zone, tagBase + i,
                nowMs, request, v)
            : preprocessor.prepare(frames.buffer(i), frames.offset(i), frames.length(i), zone, tagBase + i, nowMs,
                request, v);
        if (outcome == PacketPreprocessor.ANSWERED)
        {
            return false;
        }
        if ((outcome & PacketPreprocessor.TRACK_REASSEMBLED) != 0)
        {
            ticket.addFragmentGroup(i, preprocessor);
            preprocessor.releaseCompleted();
            if ((outcome & PacketPreprocessor.INVALID_DATAGRAM) != 0)
            {
                fanOut(ticket, i, v);
                return false;
            }
        }
        if (options.inStates != null)
        {
            request.inState(options.inStates[i]);
        }
        return true;
    }

    private void fanOut(final InFlightBatch ticket, final int position, final Verdict v)
    {
        for (int g = 0; g < ticket.fragmentGroups; g++)
        {
            if (ticket.groupPosition[g] != position)
            {
                continue;
            }
            for (int k = ticket.groupStart[g]; k < ticket.groupStart[g] + ticket.groupLength[g]; k++)
            {
                final long tag = ticket.fragmentTags[k];
                if (tag >= ticket.tagBase && tag < ticket.tagBase + ticket.count)
                {
                    if (tag - ticket.tagBase != position)
                    {
                        v.copyTo(other.wrap(ticket.verdicts,
                            ticket.verdictOffset + (int)(tag - ticket.tagBase) * ticket.stride));
                    }
                }
                else
                {
                    fragmentListener.onVerdict(tag, v);
                }
            }
        }
    }

    private void finish(final InFlightBatch ticket)
    {
        ticket.inUse = false;
        completion.onComplete(ticket.seq, ticket.userTag);
    }

    /** The sequence number the next submitted batch will get (its in-flight slot is {@code seq & (maxInFlight-1)}). */
    public int nextSeq()
    {
        return nextSeq;
    }

    /** Batches submitted and not yet complete. */
    public int inFlight()
    {
        int n = 0;
        for (final InFlightBatch ticket : tickets)
        {
            n += ticket.inUse ? 1 : 0;
        }
        return n;
    }

    public EngineCounters counters()
    {
        return counters;
    }

    @Override
    public void close()
    {
        streams.close();
        CloseHelper.quietClose(verdictSubscription);
    }

    /**
     * What a pipeline adds to a submission: the ct_state each packet already carries ({@code inStates}, or null),
     * verdicts {@code verdictStride} bytes apart ({@link Verdict#NAT_LENGTH} keeps their NAT and pipeline parts),
     * and for single-pass, the table the bucket evaluates after ct with each packet's fields record
     * ({@code fieldRecords}, {@link io.ctrack.transport.wire.BatchFlyweight#FIELDS_RECORD_LENGTH} bytes each;
     * {@code postCtTable} -1: none). Reused by the caller between submissions.
     */
    public static final class Options
    {
        public int[] inStates;
        public int verdictStride = Verdict.LENGTH;
        public int postCtTable = -1;
        public DirectBuffer fieldRecords;

        public Options clear()
        {
            inStates = null;
            verdictStride = Verdict.LENGTH;
            postCtTable = -1;
            fieldRecords = null;
            return this;
        }
    }

    private static final Options PLAIN = new Options();

    /** Told when a batch has every verdict (or its timeout passed). */
    @FunctionalInterface
    public interface Completion
    {
        void onComplete(int seq, long userTag);
    }
}
