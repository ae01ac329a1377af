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
 * it. The driver runs its agents on one shared thread that backs off when idle, so on a small machine it does
 * not take a core from the packet path. Its directory is deleted on start and on close.
 */
public final class EmbeddedDriver implements AutoCloseable
{
    private final MediaDriver driver;
    private final Aeron aeron;
    private final File dir;

    private EmbeddedDriver(final MediaDriver driver, final Aeron aeron, final File dir)
    {
        this.driver = driver;
        this.aeron = aeron;
        this.dir = dir;
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
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(10, 20, 1_000, 1_000_000))
                .ipcTermBufferLength(config.termLength())
                .ipcMtuLength(config.mtu())
                .termBufferSparseFile(true));
        }
        try
        {
            final Aeron aeron = Aeron.connect(new Aeron.Context()
                .aeronDirectoryName(dir.getAbsolutePath())
                .driverTimeoutMs(10_000));
            return new EmbeddedDriver(driver, aeron, dir);
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

    public File dir()
    {
        return dir;
    }

    @Override
    public void close()
    {
        CloseHelper.quietClose(aeron);
        CloseHelper.quietClose(driver);
        if (driver != null && dir.exists())
        {
            IoUtil.delete(dir, true);
        }
    }
}
