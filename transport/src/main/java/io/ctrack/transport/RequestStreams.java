package io.ctrack.transport;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.logbuffer.BufferClaim;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.flow.PacketFields;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.transport.wire.BatchFlyweight;
import io.ctrack.transport.wire.VerdictBatchFlyweight;
import org.agrona.CloseHelper;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.util.function.IntSupplier;

/**
 * A {@link PacketWorker}'s side of the buckets' request streams: one exclusive publication per bucket. It writes a
 * bucket's share of a batch as request messages (split at the frame size) straight into claimed space, in the
 * compact IPv4 form when the share has no IPv6 request, and rings the bucket's doorbell after each. A stream that
 * stays back-pressured for the publish timeout gets its packets answered "dropped" ({@code DROPPED_BACK_PRESSURE});
 * while it waits, the worker keeps draining its verdicts (the bucket may be waiting for room on them) and runs the
 * media driver's duty (only the driver moves the limit it waits on). Not thread-safe: the worker's thread only.
 */
final class RequestStreams implements AutoCloseable
{
    private final int workerId;
    private final TransportConfig config;
    private final Doorbells doorbells;
    private final EngineCounters counters;
    private final IntSupplier drainVerdicts;
    private final ExclusivePublication[] publications;
    private final BufferClaim claim = new BufferClaim();
    private final int[] chunkByFlags = new int[16];
    private final BatchFlyweight batch = new BatchFlyweight();
    private final Verdict verdict = new Verdict();
    private final IdleStrategy idle = new BackoffIdleStrategy(50, 10, 1_000, 100_000);
    private DriverDuty driverDuty;

    /** @param drainVerdicts the worker's poll: collects verdicts, returns how many messages it read. */
    RequestStreams(final int workerId, final Aeron aeron, final TransportConfig config, final int buckets,
        final Doorbells doorbells, final EngineCounters counters, final IntSupplier drainVerdicts)
    {
        this.workerId = workerId;
        this.config = config;
        this.doorbells = doorbells;
        this.counters = counters;
        this.drainVerdicts = drainVerdicts;
        this.publications = new ExclusivePublication[buckets];
        for (int b = 0; b < buckets; b++)
        {
            publications[b] = aeron.addExclusivePublication(config.publicationChannel(), config.batchStream(b));
        }
    }

    void driverDuty(final DriverDuty duty)
    {
        this.driverDuty = duty;
    }

    boolean isConnected()
    {
        for (final ExclusivePublication publication : publications)
        {
            if (!publication.isConnected())
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Publishes to {@code bucket} the requests of positions {@code order[from..to)}, staged in {@code requests},
     * in {@code form} ({@link StagedRequests#SHORT} if all of them have the short form, {@link StagedRequests#COMPACT}
     * if none of them is IPv6). Packets that cannot go are answered "dropped" in the ticket's verdicts and taken off
     * its outstanding count.
     */
    void publish(final int bucket, final int[] order, final int from, final int to, final int form,
        final StagedRequests requests, final int seq, final long nowMs, final ExecParams params,
        final PacketWorker.Options options, final InFlightBatch ticket)
    {
        final ExclusivePublication publication = publications[bucket];
        final int natFlag = params.nat() != null ? BatchFlyweight.FLAG_NAT : 0;
        final int compactFlag = form == StagedRequests.SHORT ? BatchFlyweight.FLAG_SHORT
            : form == StagedRequests.COMPACT ? BatchFlyweight.FLAG_COMPACT : 0;
        boolean pipeline = options.postCtTable >= 0;
        if (pipeline && to - from > chunk(publication, natFlag | compactFlag | BatchFlyweight.FLAG_PIPELINE))
        {
            // A bucket evaluates the post-ct table of the packets of one message, after tracking all of them (as
            // recirculation tracks the whole run before its next table): a share split over several messages would
            // interleave tracking and commits. Such a share goes as a plain ct; this thread evaluates its table.
            pipeline = false;
            counters.add(EngineCounter.PIPELINE_SHARES_TOO_LARGE, to - from);
        }
        final int flags = natFlag | compactFlag | (pipeline ? BatchFlyweight.FLAG_PIPELINE : 0);
        final int chunk = chunk(publication, flags);
        for (int first = from; first < to; first += chunk)
        {
            final int n = Math.min(chunk, to - first);
            if (!claim(publication, BatchFlyweight.length(n, flags)))
            {
                for (int k = first; k < first + n; k++)
                {
                    verdict.wrap(ticket.verdicts, ticket.verdictOffset + order[k] * ticket.stride)
                        .dropped(EngineCounter.DROPPED_BACK_PRESSURE.id());
                }
                counters.add(EngineCounter.DROPPED_BACK_PRESSURE, n);
                ticket.outstanding -= n;
                continue;
            }
            final MutableDirectBuffer out = claim.buffer();
            batch.wrap(out, claim.offset()).header(n, workerId, seq, nowMs, params,
                compactFlag | (pipeline ? BatchFlyweight.FLAG_PIPELINE : 0), options.postCtTable);
            for (int k = 0; k < n; k++)
            {
                final int position = order[first + k];
                batch.position(k, position);
                if (pipeline)
                {
                    PacketFields.copyRecord(options.fieldRecords, position * BatchFlyweight.FIELDS_RECORD_LENGTH, out,
                        batch.fieldsOffset(k));
                }
            }
            requests.copyTo(order, first, n, form, batch, out);
            claim.commit();
            doorbells.ring(bucket);
        }
    }

    /**
     * Requests per message with these flags (cached; every publication has the same frame): with
     * {@link BatchFlyweight#FLAG_PIPELINE}, {@link #pipelineCapacity}; else no more than in the full form, since
     * their verdicts (up to 64 bytes each) must fit in one frame of the verdict stream too.
     */
    private int chunk(final ExclusivePublication publication, final int flags)
    {
        final int key = ((flags & BatchFlyweight.FLAG_NAT) != 0 ? 1 : 0) | ((flags & BatchFlyweight.FLAG_COMPACT) != 0 ? 2 : 0)
            | ((flags & BatchFlyweight.FLAG_PIPELINE) != 0 ? 4 : 0) | ((flags & BatchFlyweight.FLAG_SHORT) != 0 ? 8 : 0);
        int chunk = chunkByFlags[key];
        if (chunk == 0)
        {
            final int maxLength = publication.maxPayloadLength();
            chunk = (flags & BatchFlyweight.FLAG_PIPELINE) != 0
                ? pipelineCapacity(maxLength, flags & ~BatchFlyweight.FLAG_PIPELINE)
                : BatchFlyweight.capacity(maxLength, flags & ~(BatchFlyweight.FLAG_COMPACT | BatchFlyweight.FLAG_SHORT));
            chunkByFlags[key] = chunk;
        }
        return chunk;
    }

    /** {@link #pipelineCapacity(int, int)} of these streams in the full form (any request, no NAT). */
    int pipelineCapacity()
    {
        return pipelineCapacity(publications[0].maxPayloadLength(), 0);
    }

    /**
     * Requests with their fields records that fit in one message, and whose 64-byte verdicts fit in one message
     * back.
     */
    static int pipelineCapacity(final int maxLength, final int flags)
    {
        return Math.min(BatchFlyweight.capacity(maxLength, flags | BatchFlyweight.FLAG_PIPELINE),
            VerdictBatchFlyweight.capacity(maxLength, Verdict.NAT_LENGTH));
    }

    private boolean claim(final ExclusivePublication publication, final int length)
    {
        long result = publication.tryClaim(length, claim);
        if (result > 0)
        {
            return true;
        }
        final long deadline = System.nanoTime() + config.publishTimeoutNs();
        idle.reset();
        while (true)
        {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED)
            {
                return false;
            }
            counters.increment(EngineCounter.PUBLISH_RETRIES);
            if (System.nanoTime() - deadline > 0)
            {
                return false;
            }
            if (driverDuty != null)
            {
                // The limit we are waiting on moves when the driver runs.
                driverDuty.tryInvoke();
            }
            // Keep draining verdicts: the buckets may be waiting for room on our verdict stream.
            if (drainVerdicts.getAsInt() == 0)
            {
                idle.idle();
            }
            result = publication.tryClaim(length, claim);
            if (result > 0)
            {
                return true;
            }
        }
    }

    @Override
    public void close()
    {
        for (final ExclusivePublication publication : publications)
        {
            CloseHelper.quietClose(publication);
        }
    }
}
