package io.ctrack.shards;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bucket executor's queue: packet threads helping, and its own thread leaving them the work while they do. */
@Timeout(30)
class SpinningExecutorTest
{
    private ThreadPoolExecutor executor;
    private Thread helper;
    private final AtomicBoolean helping = new AtomicBoolean(true);

    private SpinningExecutor.SpinQueue startExecutor(final long backstopNs)
    {
        return startExecutor(backstopNs, SpinningExecutor.HELPERS_ACTIVE_NS);
    }

    /**
     * An executor whose thread counts packet threads as helping for {@code helpersActiveNs} after they last looked
     * (long in the tests that need a helper to stay active through the scheduling hiccups of a loaded machine).
     */
    private SpinningExecutor.SpinQueue startExecutor(final long backstopNs, final long helpersActiveNs)
    {
        final SpinningExecutor.SpinQueue queue = new SpinningExecutor.SpinQueue(0, backstopNs, helpersActiveNs);
        executor = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, queue, r -> new Thread(r, "executor-thread"));
        executor.prestartAllCoreThreads();
        return queue;
    }

    @AfterEach
    void stop() throws InterruptedException
    {
        helping.set(false);
        if (helper != null)
        {
            helper.join(5_000);
        }
        executor.shutdownNow();
        assertTrue(executor.awaitTermination(5, TimeUnit.SECONDS));
    }

    private void startHelper(final SpinningExecutor.SpinQueue queue)
    {
        helper = new Thread(() ->
        {
            while (helping.get())
            {
                if (!queue.helpOnce())
                {
                    Thread.onSpinWait();
                }
            }
        }, "packet-thread");
        helper.start();
    }

    /** Waits until the executor's thread has noticed the helper (it looks every few milliseconds). */
    private static void awaitLeaving(final SpinningExecutor.SpinQueue queue) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!queue.leavingWorkToHelpers())
        {
            assertTrue(System.nanoTime() < deadline, "the executor's thread never left the work to the helper");
            Thread.sleep(1);
        }
    }

    private static Runnable recording(final List<String> threads, final CountDownLatch done)
    {
        return () ->
        {
            threads.add(Thread.currentThread().getName());
            done.countDown();
        };
    }

    @Test
    void shouldNotHelpWhileHelpingIsOff() throws InterruptedException
    {
        final SpinningExecutor.SpinQueue queue = startExecutor(10_000_000_000L);
        final List<String> threads = new CopyOnWriteArrayList<>();
        final CountDownLatch done = new CountDownLatch(1);

        assertFalse(queue.helpOnce());
        executor.execute(recording(threads, done));

        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertEquals(List.of("executor-thread"), threads);
    }

    @Test
    void shouldLeaveTheWorkToAPacketThreadThatHelps() throws InterruptedException
    {
        // A backstop of 10 s: the executor's thread never takes a task while the packet thread keeps looking (and
        // it counts as looking for 10 s after it last did).
        final SpinningExecutor.SpinQueue queue = startExecutor(10_000_000_000L, 10_000_000_000L);
        queue.helping(true);
        startHelper(queue);
        awaitLeaving(queue);
        final List<String> threads = new CopyOnWriteArrayList<>();
        final CountDownLatch done = new CountDownLatch(200);

        for (int i = 0; i < 200; i++)
        {
            executor.execute(recording(threads, done));
        }

        assertTrue(done.await(10, TimeUnit.SECONDS), threads.size() + " of 200 ran");
        assertEquals(200, threads.stream().filter("packet-thread"::equals).count(), threads.toString());
    }

    @Test
    void shouldTakeTheWorkBackWhenNoPacketThreadLooks() throws InterruptedException
    {
        final SpinningExecutor.SpinQueue queue = startExecutor(10_000_000_000L, 50_000_000);
        queue.helping(true);
        startHelper(queue);
        awaitLeaving(queue);
        helping.set(false);
        helper.join(5_000);
        // Helpers count as gone once none has looked for 50 ms here.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (queue.leavingWorkToHelpers())
        {
            assertTrue(System.nanoTime() < deadline, "the executor's thread kept leaving the work to a gone helper");
            Thread.sleep(5);
        }
        final List<String> threads = new CopyOnWriteArrayList<>();
        final CountDownLatch done = new CountDownLatch(1);

        executor.execute(recording(threads, done));

        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertEquals(List.of("executor-thread"), threads);
    }

    @Test
    void shouldRunEveryTaskWhenThePacketThreadLooksOnlyNowAndThen() throws InterruptedException
    {
        // The packet thread counts as helping (it looks every millisecond) but is busy in between: whatever it does
        // not take, the executor's thread takes after the backstop (1 ms here). Nothing is left waiting.
        final SpinningExecutor.SpinQueue queue = startExecutor(1_000_000);
        queue.helping(true);
        helper = new Thread(() ->
        {
            while (helping.get())
            {
                queue.helpOnce();
                try
                {
                    Thread.sleep(1);
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
            }
        }, "packet-thread");
        helper.start();
        final List<String> threads = new CopyOnWriteArrayList<>();
        final CountDownLatch done = new CountDownLatch(500);

        for (int i = 0; i < 500; i++)
        {
            executor.execute(recording(threads, done));
        }

        assertTrue(done.await(10, TimeUnit.SECONDS), threads.size() + " of 500 ran");
        assertTrue(threads.contains("executor-thread"), "the executor's thread took no task: " + threads.size());
    }
}
