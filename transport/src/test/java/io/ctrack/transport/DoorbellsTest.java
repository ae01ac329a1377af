package io.ctrack.transport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoorbellsTest
{
    private final AtomicIntegerArray wakes = new AtomicIntegerArray(4);
    private final Doorbells doorbells = new Doorbells(4, wakes::incrementAndGet);

    @Test
    void shouldNotWakeARunningBucket()
    {
        doorbells.ring(1);
        doorbells.ring(1);

        assertEquals(0, wakes.get(1));
        assertFalse(doorbells.isParked(1));
    }

    @Test
    void shouldWakeAParkedBucketExactlyOnce()
    {
        doorbells.park(2);
        assertTrue(doorbells.isParked(2));

        doorbells.ring(2);
        doorbells.ring(2);
        doorbells.ring(2);

        assertEquals(1, wakes.get(2), "one wake-up message for one park");
        assertFalse(doorbells.isParked(2), "the ringer took the flag");
        assertEquals(0, wakes.get(0) + wakes.get(1) + wakes.get(3), "other buckets untouched");
    }

    @Test
    void shouldLetTheBucketTakeItsFlagBackWhenNobodyRang()
    {
        doorbells.park(0);

        assertTrue(doorbells.unpark(0), "the bucket took the flag back itself");
        assertFalse(doorbells.isParked(0));
        doorbells.ring(0);
        assertEquals(0, wakes.get(0), "no wake-up for a bucket that is running");
    }

    @Test
    void shouldTellTheBucketAWakeUpIsComingWhenAPublisherRangFirst()
    {
        doorbells.park(3);
        doorbells.ring(3);

        assertFalse(doorbells.unpark(3), "the publisher took the flag: a wake-up message is on its way");
        assertEquals(1, wakes.get(3));
    }

    @Test
    void shouldWakeAgainAfterEachPark()
    {
        for (int i = 1; i <= 5; i++)
        {
            doorbells.park(1);
            doorbells.ring(1);
            assertEquals(i, wakes.get(1));
        }
    }

    /**
     * Publishers add items to per-bucket queues and ring; each bucket thread behaves as {@code BucketActor} does:
     * it waits on its mailbox, drains in bounded steps, sends itself a drain while it finds work, and when it
     * finds none it parks, polls once more, and takes the flag back if that poll found work. Once the publishers
     * stop, every item must be consumed without any further ring: a lost wake-up leaves a bucket blocked on its
     * mailbox with items in its queue.
     */
    @Test
    @Timeout(60)
    void shouldNeverLoseAWakeUpUnderConcurrentRings() throws Exception
    {
        final int buckets = 2;
        final int publishers = 3;
        final int itemsPerPublisher = 150_000;
        final AtomicLongArray published = new AtomicLongArray(buckets);
        final AtomicLongArray consumed = new AtomicLongArray(buckets);
        final AtomicLong wakeMessages = new AtomicLong();
        final List<BlockingQueue<Object>> mailboxes = new ArrayList<>();
        for (int b = 0; b < buckets; b++)
        {
            mailboxes.add(new LinkedBlockingQueue<>());
        }
        final Object wake = "wake";
        final Object drain = "drain";
        final Object stop = "stop";
        final Doorbells bells = new Doorbells(buckets, bucket ->
        {
            wakeMessages.incrementAndGet();
            mailboxes.get(bucket).add(wake);
        });
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final List<Thread> threads = new ArrayList<>();
        for (int b = 0; b < buckets; b++)
        {
            final int bucket = b;
            final BlockingQueue<Object> mailbox = mailboxes.get(b);
            threads.add(new Thread(() ->
            {
                try
                {
                    while (true)
                    {
                        final Object message = mailbox.take();
                        if (message == stop)
                        {
                            return;
                        }
                        // onDrain: bounded drain.
                        if (drainSome(bucket, published, consumed) > 0)
                        {
                            mailbox.add(drain);
                            continue;
                        }
                        bells.park(bucket);
                        if (drainSome(bucket, published, consumed) > 0 && bells.unpark(bucket))
                        {
                            mailbox.add(drain);
                        }
                    }
                }
                catch (final Throwable t)
                {
                    failure.compareAndSet(null, t);
                }
            }, "bucket-" + b));
        }
        final CountDownLatch start = new CountDownLatch(1);
        for (int p = 0; p < publishers; p++)
        {
            final int seed = p;
            threads.add(new Thread(() ->
            {
                try
                {
                    start.await();
                    for (int i = 0; i < itemsPerPublisher; i++)
                    {
                        final int bucket = (i + seed) % buckets;
                        published.incrementAndGet(bucket);
                        bells.ring(bucket);
                        if ((i & 0xFFF) == 0)
                        {
                            Thread.yield();
                        }
                    }
                }
                catch (final Throwable t)
                {
                    failure.compareAndSet(null, t);
                }
            }, "publisher-" + p));
        }
        threads.forEach(Thread::start);
        for (int b = 0; b < buckets; b++)
        {
            // Buckets start as BucketActor does: with a drain of their own.
            mailboxes.get(b).add(drain);
        }
        start.countDown();
        for (int i = buckets; i < threads.size(); i++)
        {
            threads.get(i).join();
        }

        // No more rings from here on: every bucket must still get to the end of its queue.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (int b = 0; b < buckets; b++)
        {
            while (consumed.get(b) != published.get(b) && System.nanoTime() < deadline)
            {
                Thread.sleep(1);
            }
        }
        for (int b = 0; b < buckets; b++)
        {
            mailboxes.get(b).add(stop);
        }
        for (int b = 0; b < buckets; b++)
        {
            threads.get(b).join(TimeUnit.SECONDS.toMillis(10));
        }

        assertNull(failure.get());
        long total = 0;
        for (int b = 0; b < buckets; b++)
        {
            assertEquals(published.get(b), consumed.get(b), "bucket " + b + " left items unseen: a lost wake-up");
            total += published.get(b);
        }
        assertEquals((long)publishers * itemsPerPublisher, total);
        assertTrue(wakeMessages.get() > 0, "the buckets parked and were woken");
        assertTrue(wakeMessages.get() <= total, "at most one wake-up per ring");
    }

    /** Consumes up to 64 items of a bucket's "stream" (a published count). */
    private static int drainSome(final int bucket, final AtomicLongArray published, final AtomicLongArray consumed)
    {
        final long available = published.get(bucket) - consumed.get(bucket);
        final int n = (int)Math.min(64, available);
        if (n > 0)
        {
            consumed.addAndGet(bucket, n);
        }
        return n;
    }
}
