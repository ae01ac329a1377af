package io.ctrack.transport;

import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.table.ConnTable;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.engine.table.LocalLimits;
import io.ctrack.engine.timeout.TimeoutPolicies;
import org.agrona.CloseHelper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Buckets without actors: an embedded driver, 2^k {@link BucketEndpoint}s each tracking into its own real
 * {@link ConnTable}, polled by whichever test thread calls {@link #pollBuckets}, and {@link PacketWorker}s on the
 * same driver. Everything single-threaded unless a test starts threads itself. {@link #close} removes the Aeron
 * directory.
 */
final class BucketHarness implements AutoCloseable
{
    final TransportConfig config;
    final int bucketBits;
    final EmbeddedDriver driver;
    final BucketEndpoint[] endpoints;
    final ConnTable[] tables;
    final EngineCounters[] bucketCounters;
    final BucketEndpoint.BatchProcessor[] processors;
    final Doorbells doorbells;
    final AtomicInteger wakes = new AtomicInteger();
    private final List<PacketWorker> workers = new ArrayList<>();

    BucketHarness(final TransportConfig config, final int bucketBits)
    {
        this(config, bucketBits, config);
    }

    /** Buckets whose verdict streams use {@code endpointConfig} (e.g. a smaller term than the batch streams). */
    BucketHarness(final TransportConfig config, final int bucketBits, final TransportConfig endpointConfig)
    {
        this.config = config;
        this.bucketBits = bucketBits;
        final int buckets = 1 << bucketBits;
        this.driver = EmbeddedDriver.start(config);
        this.endpoints = new BucketEndpoint[buckets];
        this.tables = new ConnTable[buckets];
        this.bucketCounters = new EngineCounters[buckets];
        this.processors = new BucketEndpoint.BatchProcessor[buckets];
        final LocalLimits limits = new LocalLimits();
        for (int b = 0; b < buckets; b++)
        {
            bucketCounters[b] = new EngineCounters();
            tables[b] = new ConnTable(ConnTableConfig.of(b, 1024), new TimeoutPolicies(), limits, bucketCounters[b]);
            endpoints[b] = new BucketEndpoint(b, driver.aeron(), endpointConfig, bucketCounters[b]);
            final ConnTable table = tables[b];
            processors[b] = (request, params, nowMs, verdict) -> table.execute(request, params, nowMs, verdict);
        }
        this.doorbells = new Doorbells(buckets, bucket -> wakes.incrementAndGet());
    }

    /** A config with a fresh directory under /dev/shm and the given sizes (the MTU at most an eighth of the term). */
    static TransportConfig config(final int termLength, final long publishTimeoutNs, final long verdictTimeoutNs)
    {
        return new TransportConfig(Path.of("/dev/shm", "ctrack-test-" + UUID.randomUUID()), true, termLength,
            Math.min(TransportConfig.DEFAULT_MTU, termLength / 8), 1000, 20_000, publishTimeoutNs, verdictTimeoutNs);
    }

    static TransportConfig defaultConfig()
    {
        return config(TransportConfig.DEFAULT_TERM_LENGTH, TimeUnit.MILLISECONDS.toNanos(50), TimeUnit.SECONDS.toNanos(5));
    }

    int buckets()
    {
        return endpoints.length;
    }

    /** A worker connected to every bucket (verdict streams created, images seen). */
    PacketWorker worker(final int workerId, final int maxInFlight)
    {
        final PacketWorker worker = new PacketWorker(workerId, driver.aeron(), config, bucketBits, doorbells,
            FragConfig.DEFAULT, new EngineCounters(), maxInFlight);
        workers.add(worker);
        for (final BucketEndpoint endpoint : endpoints)
        {
            await(() -> endpoint.connectWorker(workerId), "bucket " + endpoint.bucketId() + "'s verdict stream");
        }
        await(worker::isConnected, "worker " + workerId + " connected");
        return worker;
    }

    /** Polls every bucket once; returns the batches processed. */
    int pollBuckets()
    {
        int n = 0;
        for (int b = 0; b < endpoints.length; b++)
        {
            n += endpoints[b].poll(16, processors[b]);
        }
        return n;
    }

    /** Polls the buckets and the worker until {@code done}, failing after 10 s. */
    void pump(final PacketWorker worker, final BooleanSupplier done)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.getAsBoolean())
        {
            final int work = pollBuckets() + worker.poll();
            if (System.nanoTime() - deadline > 0)
            {
                fail("not done after 10 s: " + worker.inFlight() + " batches in flight");
            }
            if (work == 0)
            {
                Thread.onSpinWait();
            }
        }
    }

    long bucketTotal(final EngineCounter counter)
    {
        long total = 0;
        for (final EngineCounters c : bucketCounters)
        {
            total += c.get(counter);
        }
        return total;
    }

    static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out waiting for: " + what);
            }
            Thread.onSpinWait();
        }
    }

    @Override
    public void close()
    {
        workers.forEach(CloseHelper::quietClose);
        for (final BucketEndpoint endpoint : endpoints)
        {
            CloseHelper.quietClose(endpoint);
        }
        driver.close();
        assertFalse(Files.exists(config.aeronDir()), "Aeron directory left behind: " + config.aeronDir());
    }
}
