package io.ctrack.transport;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.ControlledFragmentHandler;
import io.aeron.logbuffer.Header;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.transport.wire.BatchFlyweight;
import io.ctrack.transport.wire.VerdictBatchFlyweight;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;

/**
 * A bucket's end of the streams: it polls the bucket's request stream in bounded steps and, for each batch,
 * claims the verdict space on the sending worker's verdict stream first (so a batch is tracked only once the
 * answer has room: back-pressure from a slow worker leaves the batch in the stream to be retried, nothing is
 * applied twice), tracks every request through {@link BatchProcessor} straight into the claimed space, and
 * commits. If a request's processing throws, it and the rest of its batch get dropped verdicts (counted), the
 * batch is committed, and the exception is rethrown, so the bucket's supervisor sees it. Used by one thread at a
 * time.
 */
public final class BucketEndpoint implements AutoCloseable
{
    private final int bucketId;
    private final Aeron aeron;
    private final TransportConfig config;
    private final Subscription subscription;
    private final EngineCounters counters;
    private ExclusivePublication[] verdictPublications = new ExclusivePublication[4];
    /** Registration ids of verdict publications being created, by worker id (0: none pending). */
    private long[] pendingRegistrations = new long[4];
    private final BatchFlyweight batch = new BatchFlyweight();
    private final VerdictBatchFlyweight verdicts = new VerdictBatchFlyweight();
    private final BufferClaim claim = new BufferClaim();
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);
    private final CtRequest request = new CtRequest();
    private final ExecParams params = new ExecParams();
    private final ControlledFragmentHandler handler = this::onFragment;
    private BatchProcessor processor;
    private RuntimeException failure;
    private int batchesThisPoll;
    private boolean heldBack;
    private long latestNowMs;
    private int currentIndex;
    private Publication[] bucketPublications = new Publication[0];
    private long[] pendingBucketRegistrations = new long[0];
    private final VerdictBatchFlyweight lateVerdicts = new VerdictBatchFlyweight();

    public BucketEndpoint(final int bucketId, final Aeron aeron, final TransportConfig config,
        final EngineCounters counters)
    {
        this(bucketId, aeron, config, counters, () ->
        {
        });
    }

    /**
     * @param onNewPublisher run (on the Aeron client's thread) when a new publisher's image joins the request
     *                       stream: a message may already be in it, and a parked bucket must look.
     */
    public BucketEndpoint(final int bucketId, final Aeron aeron, final TransportConfig config,
        final EngineCounters counters, final Runnable onNewPublisher)
    {
        this.bucketId = bucketId;
        this.aeron = aeron;
        this.config = config;
        this.counters = counters;
        this.subscription = aeron.addSubscription("aeron:ipc", config.batchStream(bucketId),
            image -> onNewPublisher.run(), image ->
            {
            });
    }

    /**
     * Tracks what one request asks, writing the answer into {@code verdict} (which has room for the NAT part when
     * the batch has a NAT action). During the call, {@link #currentBatch()} and {@link #currentIndex()} describe
     * the request's batch.
     */
    @FunctionalInterface
    public interface BatchProcessor
    {
        void process(CtRequest request, ExecParams params, long nowMs, Verdict verdict);

        /** Called after the last request of each batch, while {@link #currentBatch()} is still valid. */
        default void batchEnd()
        {
        }
    }

    /** The longest message a bucket may put in a stream (one frame: Aeron's MTU minus its data header). */
    public int maxMessageLength()
    {
        return config.mtu() - io.aeron.protocol.DataHeaderFlyweight.HEADER_LENGTH;
    }

    /** The batch being processed (valid during {@link BatchProcessor} calls only). */
    public BatchFlyweight currentBatch()
    {
        return batch;
    }

    /** The verdicts being written for {@link #currentBatch()} (valid during {@link BatchProcessor} calls only). */
    public VerdictBatchFlyweight currentVerdicts()
    {
        return verdicts;
    }

    /** Index in {@link #currentBatch()} of the request being processed. */
    public int currentIndex()
    {
        return currentIndex;
    }

    /**
     * Processes at most {@code batchLimit} batches (a poll that meets the padding at the end of a term goes on into
     * the next term). Returns the number of batches processed; 0 means the stream was empty, or every waiting batch
     * is held back by a full verdict stream ({@link #heldBack()}).
     *
     * @throws RuntimeException the first exception a request's processing threw, after its batch was answered.
     */
    public int poll(final int batchLimit, final BatchProcessor processor)
    {
        this.processor = processor;
        this.batchesThisPoll = 0;
        this.heldBack = false;
        subscription.controlledPoll(handler, batchLimit);
        if (batchesThisPoll == 0 && failure == null && !heldBack)
        {
            // Nothing delivered: the stream is empty, or this poll consumed only the padding at the end of a term and
            // the next batch starts the next term. Look once more (on an empty stream, one more read of a frame
            // length) rather than read the images' positions around every poll to tell the two apart.
            subscription.controlledPoll(handler, batchLimit);
        }
        final RuntimeException thrown = failure;
        if (thrown != null)
        {
            failure = null;
            throw thrown;
        }
        return batchesThisPoll;
    }

    /** The latest time any batch was tracked at (0 before the first): the bucket's clock for admin work. */
    public long latestNowMs()
    {
        return latestNowMs;
    }

    private ControlledFragmentHandler.Action onFragment(
        final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        view.wrap(buffer, offset, length);
        batch.wrap(view, 0);
        if (batch.version() != BatchFlyweight.VERSION)
        {
            counters.increment(EngineCounter.DROPPED_BAD_BATCH);
            return ControlledFragmentHandler.Action.CONTINUE;
        }
        final int count = batch.count();
        final int verdictLength = (batch.flags() & (BatchFlyweight.FLAG_NAT | BatchFlyweight.FLAG_PIPELINE)) != 0
            ? Verdict.NAT_LENGTH : Verdict.LENGTH;
        final ExclusivePublication publication = verdictPublication(batch.workerId());
        if (publication == null)
        {
            // A worker this bucket has no verdict stream to yet: it is being created; retry the batch later.
            heldBack = true;
            return ControlledFragmentHandler.Action.ABORT;
        }
        final long result = publication.tryClaim(VerdictBatchFlyweight.length(count, verdictLength), claim);
        if (result < 0)
        {
            if (result == Publication.NOT_CONNECTED || result == Publication.CLOSED
                || result == Publication.MAX_POSITION_EXCEEDED)
            {
                // The worker is gone: nobody can receive these verdicts.
                counters.add(EngineCounter.DROPPED_NO_WORKER, count);
                return ControlledFragmentHandler.Action.CONTINUE;
            }
            counters.increment(EngineCounter.VERDICT_BACK_PRESSURE);
            heldBack = true;
            return ControlledFragmentHandler.Action.ABORT;
        }
        final MutableDirectBuffer out = claim.buffer();
        verdicts.wrap(out, claim.offset()).header(count, bucketId, batch.batchSeq(), verdictLength);
        batch.readParams(params);
        final long nowMs = batch.nowMs();
        latestNowMs = Math.max(latestNowMs, nowMs);
        for (int i = 0; i < count; i++)
        {
            verdicts.position(i, batch.position(i));
            final Verdict verdict = verdicts.verdict(i);
            if (failure != null)
            {
                // The bucket failed earlier in this batch: its state is suspect until its supervisor restarts it.
                verdict.dropped(EngineCounter.DROPPED_BUCKET_FAILURE.id());
                counters.increment(EngineCounter.DROPPED_BUCKET_FAILURE);
                continue;
            }
            try
            {
                currentIndex = i;
                processor.process(batch.readRequest(i, request), params, nowMs, verdict);
            }
            catch (final RuntimeException ex)
            {
                verdict.dropped(EngineCounter.DROPPED_BUCKET_FAILURE.id());
                counters.increment(EngineCounter.DROPPED_BUCKET_FAILURE);
                failure = ex;
            }
        }
        if (failure == null)
        {
            try
            {
                processor.batchEnd();
            }
            catch (final RuntimeException ex)
            {
                failure = ex;
            }
        }
        claim.commit();
        counters.add(EngineCounter.REQUESTS, count);
        batchesThisPoll++;
        return failure == null ? ControlledFragmentHandler.Action.CONTINUE : ControlledFragmentHandler.Action.BREAK;
    }

    /**
     * The verdict stream to {@code workerId}, or null while it is being created. Creation is asynchronous: the
     * bucket's thread never waits for the media driver (which, in INVOKER mode, may be driven from that very
     * thread).
     */
    private ExclusivePublication verdictPublication(final int workerId)
    {
        if (workerId >= verdictPublications.length)
        {
            final int n = Math.max(workerId + 1, verdictPublications.length * 2);
            verdictPublications = Arrays.copyOf(verdictPublications, n);
            pendingRegistrations = Arrays.copyOf(pendingRegistrations, n);
        }
        ExclusivePublication publication = verdictPublications[workerId];
        if (publication == null)
        {
            if (pendingRegistrations[workerId] == 0)
            {
                pendingRegistrations[workerId] =
                    aeron.asyncAddExclusivePublication(config.publicationChannel(), config.verdictStream(workerId));
            }
            publication = aeron.getExclusivePublication(pendingRegistrations[workerId]);
            if (publication != null)
            {
                verdictPublications[workerId] = publication;
                pendingRegistrations[workerId] = 0;
            }
        }
        return publication;
    }

    /**
     * Publishes verdicts that were not answered with their batch (NAT: after a reservation, or for requests another
     * bucket forwarded): {@code count} verdicts of {@code verdictLength} bytes, contiguous in {@code source} from
     * {@code sourceOffset}, for positions {@code positions[0..count)} of batch {@code batchSeq} of worker
     * {@code workerId}. Returns false if they cannot go now (stream being created, or full): offer them again
     * later. Verdicts for a worker that is gone are dropped (counted) and true is returned.
     */
    public boolean offerVerdicts(final int workerId, final int batchSeq, final int count, final int[] positions,
        final DirectBuffer source, final int sourceOffset, final int verdictLength)
    {
        final ExclusivePublication publication = verdictPublication(workerId);
        if (publication == null)
        {
            return false;
        }
        final long result = publication.tryClaim(VerdictBatchFlyweight.length(count, verdictLength), claim);
        if (result < 0)
        {
            if (result == Publication.NOT_CONNECTED || result == Publication.CLOSED
                || result == Publication.MAX_POSITION_EXCEEDED)
            {
                counters.add(EngineCounter.DROPPED_NO_WORKER, count);
                return true;
            }
            counters.increment(EngineCounter.VERDICT_BACK_PRESSURE);
            return false;
        }
        lateVerdicts.wrap(claim.buffer(), claim.offset()).header(count, bucketId, batchSeq, verdictLength);
        for (int i = 0; i < count; i++)
        {
            lateVerdicts.position(i, positions[i]);
        }
        claim.buffer().putBytes(lateVerdicts.verdict(0).offset(), source, sourceOffset, count * verdictLength);
        claim.commit();
        return true;
    }

    /**
     * Publishes a batch message (built by the caller in the request batch format) into bucket {@code target}'s
     * request stream, shared with the other buckets that forward there. Returns false if it cannot go now.
     */
    public boolean offerToBucket(final int target, final DirectBuffer message, final int offset, final int length)
    {
        final Publication publication = bucketPublication(target);
        if (publication == null)
        {
            return false;
        }
        final long result = publication.offer(message, offset, length);
        if (result < 0)
        {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED)
            {
                throw new IllegalStateException("the request stream of bucket " + target + " is closed");
            }
            return false;
        }
        return true;
    }

    private Publication bucketPublication(final int target)
    {
        if (target >= bucketPublications.length)
        {
            bucketPublications = Arrays.copyOf(bucketPublications, target + 1);
            pendingBucketRegistrations = Arrays.copyOf(pendingBucketRegistrations, target + 1);
        }
        Publication publication = bucketPublications[target];
        if (publication == null)
        {
            if (pendingBucketRegistrations[target] == 0)
            {
                pendingBucketRegistrations[target] =
                    aeron.asyncAddPublication(config.publicationChannel(), config.batchStream(target));
            }
            publication = aeron.getPublication(pendingBucketRegistrations[target]);
            if (publication != null)
            {
                bucketPublications[target] = publication;
                pendingBucketRegistrations[target] = 0;
            }
        }
        return publication;
    }

    /** True if the last poll left a batch in the stream because its worker's verdict stream was full. */
    public boolean heldBack()
    {
        return heldBack;
    }

    /**
     * Starts creating the verdict stream to {@code workerId}, ahead of its first batch; returns true once it
     * exists (call again until it does).
     */
    public boolean connectWorker(final int workerId)
    {
        return verdictPublication(workerId) != null;
    }

    public int bucketId()
    {
        return bucketId;
    }

    @Override
    public void close()
    {
        for (final ExclusivePublication publication : verdictPublications)
        {
            CloseHelper.quietClose(publication);
        }
        for (final long registration : pendingRegistrations)
        {
            if (registration != 0)
            {
                aeron.asyncRemovePublication(registration);
            }
        }
        for (final Publication publication : bucketPublications)
        {
            CloseHelper.quietClose(publication);
        }
        for (final long registration : pendingBucketRegistrations)
        {
            if (registration != 0)
            {
                aeron.asyncRemovePublication(registration);
            }
        }
        CloseHelper.quietClose(subscription);
    }
}
