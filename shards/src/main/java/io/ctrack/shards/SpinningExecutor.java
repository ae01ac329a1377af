package io.ctrack.shards;

import com.typesafe.config.Config;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The executor of the bucket dispatcher: a fixed pool whose idle threads keep looking for work for
 * {@code spin-ns} before they block. Waking a blocked thread costs tens to hundreds of microseconds on a virtual
 * machine, far more than the work a doorbell or an admin command brings, so a bucket thread that has just been busy
 * stays ready for a while. The spin is per thread, not per bucket: a thread hosting many buckets spins once, and
 * any of its buckets (or the admin actor) is served as soon as it has work.
 *
 * <p>Configured as {@code executor = "io.ctrack.shards.SpinningExecutor"} with {@code pool-size} and {@code spin-ns}.
 */
public final class SpinningExecutor extends ExecutorServiceConfigurator
{
    private final int poolSize;
    private final long spinNs;

    public SpinningExecutor(final Config config, final DispatcherPrerequisites prerequisites)
    {
        super(config, prerequisites);
        this.poolSize = config.getInt("pool-size");
        this.spinNs = config.getLong("spin-ns");
        if (poolSize < 1 || spinNs < 0)
        {
            throw new IllegalArgumentException("bucket executor: pool-size must be >= 1 and spin-ns >= 0, got "
                + poolSize + " and " + spinNs);
        }
    }

    @Override
    public ExecutorServiceFactory createExecutorServiceFactory(final String id, final ThreadFactory threadFactory)
    {
        return () -> new ThreadPoolExecutor(poolSize, poolSize, 60, TimeUnit.SECONDS, new SpinQueue(spinNs),
            threadFactory);
    }

    /** A task queue whose takers poll for {@code spinNs} before blocking. */
    static final class SpinQueue extends LinkedBlockingQueue<Runnable>
    {
        private static final long serialVersionUID = 1L;
        private final transient long spinNs;

        SpinQueue(final long spinNs)
        {
            this.spinNs = spinNs;
        }

        private Runnable spin()
        {
            Runnable task = poll();
            if (task != null || spinNs == 0)
            {
                return task;
            }
            final long until = System.nanoTime() + spinNs;
            do
            {
                Thread.onSpinWait();
                // size() is a volatile read; poll() would take the lock on every empty look.
                if (size() > 0 && (task = poll()) != null)
                {
                    return task;
                }
            }
            while (System.nanoTime() - until < 0);
            return null;
        }

        @Override
        public Runnable take() throws InterruptedException
        {
            final Runnable task = spin();
            return task != null ? task : super.take();
        }

        @Override
        public Runnable poll(final long timeout, final TimeUnit unit) throws InterruptedException
        {
            final Runnable task = spin();
            return task != null ? task : super.poll(timeout, unit);
        }
    }
}
