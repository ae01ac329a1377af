package io.ctrack.shards;

import com.typesafe.config.Config;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The executor of the bucket dispatcher: a fixed pool whose idle threads keep looking for work for
 * {@code spin-ns} before they block. Waking a blocked thread costs tens to hundreds of microseconds on a virtual
 * machine, far more than the work a doorbell or an admin command brings, so a bucket thread that has just been busy
 * stays ready for a while. The spin is per thread, not per bucket: a thread hosting many buckets spins once, and
 * any of its buckets (or the admin actor) is served as soon as it has work.
 *
 * <p>Packet threads can <em>help</em>: while they wait for verdicts they run queued tasks themselves
 * ({@link SpinQueue#helpOnce()}; an actor's mailbox still runs on one thread at a time). When the node turns helping
 * on (as many packet threads as cores: a bucket thread would be a thread too many), the executor's own threads stop
 * spinning and leave queued work to the packet threads, taking a task only once the queue has held work for
 * {@code help-backstop-ns} without a packet thread taking it, or when no packet thread has looked for
 * {@link #HELPERS_ACTIVE_NS}.
 *
 * <p>Configured as {@code executor = "io.ctrack.shards.SpinningExecutor"} with {@code pool-size}, {@code spin-ns},
 * and optionally {@code help-key} (the node finds the queue under it, {@link #takeQueue}) and
 * {@code help-backstop-ns}.
 */
public final class SpinningExecutor extends ExecutorServiceConfigurator
{
    /** Packet threads count as helping if one has looked for work this recently. */
    static final long HELPERS_ACTIVE_NS = 2_000_000;
    /** How long an executor thread sleeps between looks while packet threads help. */
    private static final long LAZY_PARK_NS = 50_000;
    /** Queues of executors configured with a help key, until their node takes them. */
    private static final ConcurrentHashMap<String, SpinQueue> QUEUES = new ConcurrentHashMap<>();

    private final int poolSize;
    private final long spinNs;
    private final String helpKey;
    private final long backstopNs;

    public SpinningExecutor(final Config config, final DispatcherPrerequisites prerequisites)
    {
        super(config, prerequisites);
        this.poolSize = config.getInt("pool-size");
        this.spinNs = config.getLong("spin-ns");
        this.helpKey = config.hasPath("help-key") ? config.getString("help-key") : "";
        this.backstopNs = config.hasPath("help-backstop-ns") ? config.getLong("help-backstop-ns") : 500_000;
        if (poolSize < 1 || spinNs < 0 || backstopNs < 0)
        {
            throw new IllegalArgumentException("bucket executor: pool-size must be >= 1 and spin-ns >= 0, got "
                + poolSize + " and " + spinNs);
        }
    }

    @Override
    public ExecutorServiceFactory createExecutorServiceFactory(final String id, final ThreadFactory threadFactory)
    {
        return () ->
        {
            final SpinQueue queue = new SpinQueue(spinNs, backstopNs);
            if (!helpKey.isEmpty())
            {
                QUEUES.put(helpKey, queue);
            }
            return new ThreadPoolExecutor(poolSize, poolSize, 60, TimeUnit.SECONDS, queue, threadFactory);
        };
    }

    /** The queue of the executor configured with {@code key}, handed over once; null if there is none (yet). */
    static SpinQueue takeQueue(final String key)
    {
        return QUEUES.remove(key);
    }

    /**
     * A task queue whose takers poll for {@code spinNs} before blocking, or, while packet threads help, leave the
     * work to them ({@link #helpOnce()}) and look only now and then.
     */
    static final class SpinQueue extends LinkedBlockingQueue<Runnable>
    {
        private static final long serialVersionUID = 1L;
        private final transient long spinNs;
        private final transient long backstopNs;
        private final transient long helpersActiveNs;
        private transient volatile boolean helping;
        private transient volatile long helperLookNs;
        /** An executor thread is leaving the work to packet threads now. */
        private transient volatile boolean leaving;

        SpinQueue(final long spinNs, final long backstopNs)
        {
            this(spinNs, backstopNs, HELPERS_ACTIVE_NS);
        }

        /** {@code helpersActiveNs}: packet threads count as helping if one has looked this recently. */
        SpinQueue(final long spinNs, final long backstopNs, final long helpersActiveNs)
        {
            this.spinNs = spinNs;
            this.backstopNs = backstopNs;
            this.helpersActiveNs = helpersActiveNs;
            this.helperLookNs = System.nanoTime() - helpersActiveNs;
        }

        /** Whether packet threads help (the node's choice); the executor's threads then leave work to them. */
        void helping(final boolean on)
        {
            helping = on;
        }

        boolean helping()
        {
            return helping;
        }

        /**
         * Runs one queued task on the calling packet thread, if helping is on and a task is queued; returns whether
         * it ran one. Called by packet threads while they wait.
         */
        boolean helpOnce()
        {
            if (!helping)
            {
                return false;
            }
            final long now = System.nanoTime();
            if (now - helperLookNs > LAZY_PARK_NS)
            {
                // One write per park period, not per look: executor threads read it, packet threads look often.
                helperLookNs = now;
            }
            if (Thread.currentThread().isInterrupted())
            {
                // An interrupted packet thread is being stopped: an actor's mailbox would throw on it.
                return false;
            }
            final Runnable task = size() > 0 ? poll() : null;
            if (task == null)
            {
                return false;
            }
            try
            {
                task.run();
            }
            catch (final Throwable ex)
            {
                if (!(ex instanceof InterruptedException))
                {
                    throw ex;
                }
                // Interrupted while running an actor's messages: the mailbox has rescheduled itself; keep the
                // interrupt for the packet thread's own code.
                Thread.currentThread().interrupt();
            }
            return true;
        }

        private boolean helpersActive()
        {
            return helping && System.nanoTime() - helperLookNs < helpersActiveNs;
        }

        /**
         * While packet threads help: sleeps between looks and takes a task only once the queue has held work for
         * {@code backstopNs}; returns null when they stop helping or {@code deadlineNs} passes.
         */
        private Runnable lazyTake(final long deadlineNs) throws InterruptedException
        {
            leaving = true;
            try
            {
                return leaveWorkToHelpers(deadlineNs);
            }
            finally
            {
                leaving = false;
            }
        }

        /** Whether an executor thread is leaving the work to packet threads now. */
        boolean leavingWorkToHelpers()
        {
            return leaving;
        }

        private Runnable leaveWorkToHelpers(final long deadlineNs) throws InterruptedException
        {
            long busySinceNs = 0;
            while (helpersActive())
            {
                final long now = System.nanoTime();
                if (now - deadlineNs >= 0)
                {
                    return null;
                }
                if (size() == 0)
                {
                    busySinceNs = 0;
                }
                else if (busySinceNs == 0)
                {
                    busySinceNs = now;
                }
                else if (now - busySinceNs >= backstopNs)
                {
                    final Runnable task = poll();
                    if (task != null)
                    {
                        return task;
                    }
                    busySinceNs = 0;
                }
                LockSupport.parkNanos(LAZY_PARK_NS);
                if (Thread.interrupted())
                {
                    throw new InterruptedException();
                }
            }
            return null;
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
            Runnable task = helpersActive() ? lazyTake(Long.MAX_VALUE / 2 + System.nanoTime()) : null;
            if (task != null)
            {
                return task;
            }
            task = spin();
            while (task == null)
            {
                // Block, but look up now and then: packet threads may have begun to help, and then this thread
                // leaves the work to them (a thread blocked here would take the next task offered).
                task = super.poll(HELPERS_ACTIVE_NS, TimeUnit.NANOSECONDS);
                if (task == null && helpersActive())
                {
                    task = lazyTake(Long.MAX_VALUE / 2 + System.nanoTime());
                }
            }
            return task;
        }

        @Override
        public Runnable poll(final long timeout, final TimeUnit unit) throws InterruptedException
        {
            final long deadlineNs = System.nanoTime() + unit.toNanos(timeout);
            if (helpersActive())
            {
                final Runnable task = lazyTake(deadlineNs);
                if (task != null)
                {
                    return task;
                }
            }
            final Runnable task = spin();
            return task != null ? task : super.poll(Math.max(0, deadlineNs - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }
}
