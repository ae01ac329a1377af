package io.ctrack.transport;

import java.nio.file.Path;

/**
 * Transport settings.
 *
 * @param aeronDir          Aeron directory; for an embedded driver, a unique directory under /dev/shm.
 * @param embeddedDriver    start a media driver in this process (default) rather than use an external one.
 * @param termLength        IPC term length of every publication (power of two, at least 64 KiB).
 * @param mtu               IPC MTU: large enough that a batch is one Aeron frame (so it can be claimed in place).
 * @param batchStreamBase   stream id of bucket 0's request stream; bucket {@code b} uses base + b.
 * @param verdictStreamBase stream id of worker 0's verdict stream; worker {@code w} uses base + w.
 * @param publishTimeoutNs  how long a publisher retries back-pressure before it counts the packets as dropped.
 * @param verdictTimeoutNs  how long a worker waits for a batch's verdicts before it answers the rest as dropped.
 * @param driverInvoked     the embedded driver has no thread: the node drives its duty cycle (INVOKER mode).
 */
public record TransportConfig(
    Path aeronDir,
    boolean embeddedDriver,
    int termLength,
    int mtu,
    int batchStreamBase,
    int verdictStreamBase,
    long publishTimeoutNs,
    long verdictTimeoutNs,
    boolean driverInvoked)
{
    public static final int DEFAULT_TERM_LENGTH = 1 << 20;

    public TransportConfig
    {
        if (mtu < 1024 || mtu % 32 != 0 || mtu > termLength / 8)
        {
            throw new IllegalArgumentException("the MTU (" + mtu + ") must be a multiple of 32 from 1024 to an eighth "
                + "of the term length (" + termLength + " / 8 = " + termLength / 8 + ", Aeron's largest message)");
        }
        if (publishTimeoutNs < 0 || verdictTimeoutNs <= publishTimeoutNs)
        {
            throw new IllegalArgumentException("the verdict timeout (" + verdictTimeoutNs + " ns) must be longer than "
                + "the publish timeout (" + publishTimeoutNs + " ns): a batch may wait that long to be published");
        }
    }

    /** Settings whose embedded driver (if any) runs on its own thread: for use without a node to drive it. */
    public TransportConfig(final Path aeronDir, final boolean embeddedDriver, final int termLength, final int mtu,
        final int batchStreamBase, final int verdictStreamBase, final long publishTimeoutNs, final long verdictTimeoutNs)
    {
        this(aeronDir, embeddedDriver, termLength, mtu, batchStreamBase, verdictStreamBase, publishTimeoutNs,
            verdictTimeoutNs, false);
    }

    /**
     * Large enough that a batch of 256 single-pass requests (full form, with their field records) reaches a bucket
     * in one message, which lets a pipeline overlap such batches ({@code OverlappedPipeline}).
     */
    public static final int DEFAULT_MTU = 32768;

    /** Defaults with an embedded driver in a fresh directory named after {@code nodeName} and this process. */
    public static TransportConfig embedded(final String nodeName)
    {
        final Path shm = Path.of("/dev/shm");
        final Path base = shm.toFile().isDirectory() ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        return new TransportConfig(base.resolve("ctrack-" + nodeName + "-" + ProcessHandle.current().pid()),
            true, DEFAULT_TERM_LENGTH, DEFAULT_MTU, 1000, 20_000, 50_000_000L, 5_000_000_000L, true);
    }

    /** The IPC channel publications use. */
    public String publicationChannel()
    {
        return "aeron:ipc?term-length=" + termLength + "|mtu=" + mtu;
    }

    public int batchStream(final int bucket)
    {
        return batchStreamBase + bucket;
    }

    public int verdictStream(final int workerId)
    {
        return verdictStreamBase + workerId;
    }

    public TransportConfig withAeronDir(final Path dir, final boolean embedded)
    {
        return new TransportConfig(dir, embedded, termLength, mtu, batchStreamBase, verdictStreamBase,
            publishTimeoutNs, verdictTimeoutNs, driverInvoked);
    }

    /** Another term length; the MTU reduced to an eighth of it if it was larger (Aeron's largest message). */
    public TransportConfig withTermLength(final int length)
    {
        return new TransportConfig(aeronDir, embeddedDriver, length, Math.min(mtu, length / 8), batchStreamBase,
            verdictStreamBase, publishTimeoutNs, verdictTimeoutNs, driverInvoked);
    }

    public TransportConfig withMtu(final int newMtu)
    {
        return new TransportConfig(aeronDir, embeddedDriver, termLength, newMtu, batchStreamBase, verdictStreamBase,
            publishTimeoutNs, verdictTimeoutNs, driverInvoked);
    }

    public TransportConfig withDriverInvoked(final boolean invoked)
    {
        return new TransportConfig(aeronDir, embeddedDriver, termLength, mtu, batchStreamBase, verdictStreamBase,
            publishTimeoutNs, verdictTimeoutNs, invoked);
    }
}
