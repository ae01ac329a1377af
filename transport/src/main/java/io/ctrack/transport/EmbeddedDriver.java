package io.ctrack.transport;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.BackoffIdleStrategy;

import java.io.File;

/**
 * The node's Aeron: an embedded media driver (unless the config names an external one) and a client connected to
 * it. The driver's agents either run on one shared thread that backs off when idle ({@code SHARED}), or have no
 * thread at all ({@code INVOKER}): then the node drives the duty cycle through {@link #invoker()}, so on a small
 * machine the driver never becomes a third busy thread next to the packet threads and the buckets. Its directory
 * is deleted on start and on close.
 */
public final class EmbeddedDriver implements AutoCloseable
{
    private final MediaDriver driver;
    private final Aeron aeron;
    private final File dir;
    private final org.agrona.concurrent.AgentInvoker invoker;
    private final DriverDuty duty;
    private Thread startupPump;

    private EmbeddedDriver(final MediaDriver driver, final Aeron aeron, final File dir, final DriverDuty duty)
    {
        this.driver = driver;
        this.aeron = aeron;
        this.dir = dir;
        this.invoker = driver == null ? null : driver.sharedAgentInvoker();
        this.duty = duty;
    }

    public static EmbeddedDriver start(final TransportConfig config)
    {
        final File dir = config.aeronDir().toFile();
        MediaDriver driver = null;
        if (config.embeddedDriver())
        {
            driver = MediaDriver.launch(new MediaDriver.Context()
                .aeronDirectoryName(dir.getAbsolutePath())
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .threadingMode(config.driverInvoked() ? ThreadingMode.INVOKER : ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(10, 20, 1_000, 1_000_000))
                .ipcTermBufferLength(config.termLength())
                .ipcMtuLength(config.mtu())
                .termBufferSparseFile(true));
        }
        final DriverDuty duty = driver != null && driver.sharedAgentInvoker() != null ?
            new DriverDuty(driver.sharedAgentInvoker()) : null;
        final Thread pump = duty != null ? startPump(duty) : null;
        try
        {
            return connect(driver, dir, pump, duty);
        }
        catch (final RuntimeException ex)
        {
            stopPump(pump);
            throw ex;
        }
    }

    /**
     * Until the node takes over ({@link #handOver()}), a plain thread drives an invoked driver, so the client can
     * connect and the node can create its publications and subscriptions.
     */
    private static Thread startPump(final DriverDuty duty)
    {
        // Stopped by a flag, never by interrupt: an interrupt during the driver's file I/O would close its channels.
        final Thread pump = new PumpThread(duty);
        pump.setDaemon(true);
        pump.start();
        return pump;
    }

    /** Drives an invoked driver until told to stop. */
    private static final class PumpThread extends Thread
    {
        private final DriverDuty duty;
        private volatile boolean running = true;

        PumpThread(final DriverDuty duty)
        {
            super("aeron-driver-until-handover");
            this.duty = duty;
        }

        @Override
        public void run()
        {
            final org.agrona.concurrent.IdleStrategy idle = new BackoffIdleStrategy(10, 20, 1_000, 100_000);
            while (running)
            {
                idle.idle(duty.tryInvoke());
            }
        }
    }

    private static void stopPump(final Thread pump)
    {
        if (pump != null)
        {
            ((PumpThread)pump).running = false;
            try
            {
                pump.join();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Drives an invoked driver from a thread of its own again (when the node's own driving stops, at shutdown), so
     * that closing streams does not wait on a driver nobody runs. Idempotent.
     */
    public synchronized void resumeOwnPump()
    {
        if (startupPump == null && duty != null)
        {
            startupPump = startPump(duty);
        }
    }

    /**
     * Stops the start-up thread that drives an invoked driver: from now on the caller calls {@link #invoker()}
     * (from one thread at a time). Idempotent.
     */
    public synchronized void handOver()
    {
        stopPump(startupPump);
        startupPump = null;
    }

    private static EmbeddedDriver connect(final MediaDriver driver, final File dir, final Thread pump,
        final DriverDuty duty)
    {
        try
        {
            final Aeron aeron = Aeron.connect(new Aeron.Context()
                .aeronDirectoryName(dir.getAbsolutePath())
                .driverTimeoutMs(10_000));
            final EmbeddedDriver embedded = new EmbeddedDriver(driver, aeron, dir, duty);
            embedded.startupPump = pump;
            return embedded;
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(driver);
            throw ex;
        }
    }

    public Aeron aeron()
    {
        return aeron;
    }

    /**
     * The driver's duty cycle when it has no thread of its own ({@code INVOKER} mode), or null. Whoever drives it
     * must call {@code invoke()} from one thread at a time, often enough for publication limits to advance.
     */
    public org.agrona.concurrent.AgentInvoker invoker()
    {
        return invoker;
    }

    /** The shared duty cycle of an invoked driver, or null: every caller runs it through this, one at a time. */
    public DriverDuty duty()
    {
        return duty;
    }

    public File dir()
    {
        return dir;
    }

    @Override
    public void close()
    {
        resumeOwnPump();
        CloseHelper.quietClose(aeron);
        handOver();
        CloseHelper.quietClose(driver);
        if (driver != null && dir.exists())
        {
            IoUtil.delete(dir, true);
        }
    }
}
