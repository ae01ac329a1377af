package io.ctrack.shards;

import io.ctrack.engine.frag.FragConfig;
import io.ctrack.transport.TransportConfig;

/**
 * How a node is built.
 *
 * @param name               node name (actor system name, Aeron directory name).
 * @param bucketBits         log2 of the bucket count: 2^bucketBits buckets, chosen by the top bits of the hash.
 * @param bucketCapacity     IPv4 connections each bucket holds before its table first grows.
 * @param bucketThreads      threads of the bucket dispatcher (at most the cores the buckets may use).
 * @param batchesPerDrain    batches a bucket handles per message before it yields.
 * @param idleSpinNs         how long an idle bucket thread keeps looking for work before it blocks (0: block at once).
 * @param wheelSlots         expiry wheel slots per bucket (power of two).
 * @param wheelSlotMs        expiry wheel slot width.
 * @param maxConns           global connection limit.
 * @param transport          Aeron settings.
 * @param fragments          fragment reassembly limits, per worker.
 */
public record NodeSettings(
    String name,
    int bucketBits,
    int bucketCapacity,
    int bucketThreads,
    int batchesPerDrain,
    long idleSpinNs,
    int wheelSlots,
    long wheelSlotMs,
    long maxConns,
    TransportConfig transport,
    FragConfig fragments)
{
    public NodeSettings
    {
        if (bucketBits < 0 || bucketBits > 10)
        {
            throw new IllegalArgumentException("bucket bits must be 0-10 (1 to 1024 buckets), got " + bucketBits);
        }
        if (bucketThreads < 1)
        {
            throw new IllegalArgumentException("bucket threads must be at least 1, got " + bucketThreads);
        }
        if (batchesPerDrain < 1)
        {
            throw new IllegalArgumentException("batches per drain must be at least 1, got " + batchesPerDrain);
        }
    }

    /** Defaults for a node with {@code buckets} buckets (a power of two). */
    public static NodeSettings defaults(final String name, final int buckets)
    {
        if (Integer.bitCount(buckets) != 1)
        {
            throw new IllegalArgumentException("bucket count must be a power of two, got " + buckets);
        }
        return new NodeSettings(name, Integer.numberOfTrailingZeros(buckets), 1024,
            Math.max(1, Math.min(buckets, Runtime.getRuntime().availableProcessors() - 1)), 16, 50_000, 8192, 250,
            SharedLimits.DEFAULT_MAX_CONNS, TransportConfig.embedded(name), FragConfig.DEFAULT);
    }

    public int buckets()
    {
        return 1 << bucketBits;
    }

    public NodeSettings withBucketCapacity(final int capacity)
    {
        return new NodeSettings(name, bucketBits, capacity, bucketThreads, batchesPerDrain, idleSpinNs, wheelSlots,
            wheelSlotMs, maxConns, transport, fragments);
    }

    public NodeSettings withBucketThreads(final int threads)
    {
        return new NodeSettings(name, bucketBits, bucketCapacity, threads, batchesPerDrain, idleSpinNs, wheelSlots,
            wheelSlotMs, maxConns, transport, fragments);
    }

    public NodeSettings withMaxConns(final long max)
    {
        return new NodeSettings(name, bucketBits, bucketCapacity, bucketThreads, batchesPerDrain, idleSpinNs,
            wheelSlots, wheelSlotMs, max, transport, fragments);
    }

    public NodeSettings withIdleSpinNs(final long ns)
    {
        return new NodeSettings(name, bucketBits, bucketCapacity, bucketThreads, batchesPerDrain, ns, wheelSlots,
            wheelSlotMs, maxConns, transport, fragments);
    }

    public NodeSettings withTransport(final TransportConfig config)
    {
        return new NodeSettings(name, bucketBits, bucketCapacity, bucketThreads, batchesPerDrain, idleSpinNs,
            wheelSlots, wheelSlotMs, maxConns, config, fragments);
    }
}
