package io.ctrack.sweeper;

import io.ctrack.shards.BucketActor;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The pacing of one {@link SweeperActor} alone, a probe standing in for its bucket and the scheduler's time driven
 * by the test ({@link ManualTime}): when the next step goes out after each kind of answer.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(30)
class SweeperActorTest
{
    private static final long NOW_MS = 1_700_000_000_000L;

    @JUnit5TestKit
    final ActorTestKit testKit = new JUnit5TestKitBuilder().withName("sweeper-actor-test")
        .withCustomConfig(ManualTime.config()).build();

    private final ManualTime manualTime = ManualTime.get(testKit.system());
    private final AtomicLong clock = new AtomicLong(NOW_MS);
    private TestProbe<BucketActor.Command> bucket;
    private ActorRef<SweeperActor.Command> sweeper;

    @AfterEach
    void stopSweeper()
    {
        if (sweeper != null)
        {
            testKit.stop(sweeper);
            sweeper = null;
        }
    }

    private BucketActor.SweepStep start(final SweepSettings settings)
    {
        clock.set(NOW_MS);
        bucket = testKit.createTestProbe();
        sweeper = testKit.spawn(SweeperActor.create(bucket.getRef(), settings, clock::get));
        // A new sweeper steps at once, without waiting for any time to pass.
        return expectStep(settings.budget());
    }

    private BucketActor.SweepStep expectStep(final int budget)
    {
        final BucketActor.SweepStep step = bucket.expectMessageClass(BucketActor.SweepStep.class);
        assertEquals(budget, step.budget());
        assertEquals(clock.get(), step.nowMs(), "a step carries the sweeper's clock");
        return step;
    }

    /** Answers {@code step} and waits until the sweeper has handled the answer (so its timer is set). */
    private SweepSettings answer(final BucketActor.SweepStep step, final int removed, final boolean behind,
        final long nextDueMs)
    {
        step.replyTo().tell(new BucketActor.Swept(0, removed, behind, nextDueMs));
        return settings();
    }

    private SweepSettings settings()
    {
        final TestProbe<SweepSettings> probe = testKit.createTestProbe();
        sweeper.tell(new SweeperActor.GetSettings(probe.getRef()));
        return probe.receiveMessage();
    }

    @Test
    void shouldStepAgainAtOnceWhileBehind()
    {
        final BucketActor.SweepStep first = start(new SweepSettings(60_000, 0, 100));

        answer(first, 100, true, NOW_MS);

        final BucketActor.SweepStep second = expectStep(100);
        answer(second, 100, true, NOW_MS);
        expectStep(100);
    }

    @Test
    void shouldWaitTheMinimumIntervalWhileBehind()
    {
        final BucketActor.SweepStep first = start(new SweepSettings(60_000, 200, 100));

        answer(first, 100, true, NOW_MS);

        manualTime.expectNoMessageFor(Duration.ofMillis(199), bucket);
        manualTime.timePasses(Duration.ofMillis(1));
        expectStep(100);
    }

    @Test
    void shouldWaitTheIntervalWhenNothingIsDue()
    {
        final BucketActor.SweepStep first = start(new SweepSettings(1_000, 0, 100));

        answer(first, 0, false, Long.MAX_VALUE);

        manualTime.expectNoMessageFor(Duration.ofMillis(999), bucket);
        manualTime.timePasses(Duration.ofMillis(1));
        final BucketActor.SweepStep second = expectStep(100);

        // Something due, but further away than the interval: the interval still bounds the wait.
        answer(second, 0, false, clock.get() + 5_000);
        manualTime.expectNoMessageFor(Duration.ofMillis(999), bucket);
        manualTime.timePasses(Duration.ofMillis(1));
        expectStep(100);
    }

    @Test
    void shouldStepWhenTheNextSlotIsDueBeforeTheInterval()
    {
        final BucketActor.SweepStep first = start(new SweepSettings(1_000, 0, 100));

        answer(first, 3, false, NOW_MS + 300);

        manualTime.expectNoMessageFor(Duration.ofMillis(299), bucket);
        clock.set(NOW_MS + 300);
        manualTime.timePasses(Duration.ofMillis(1));
        expectStep(100);
    }

    @Test
    void shouldNotStepSoonerThanTheMinimumInterval()
    {
        final BucketActor.SweepStep first = start(new SweepSettings(1_000, 50, 100));

        answer(first, 0, false, NOW_MS + 10);

        manualTime.expectNoMessageFor(Duration.ofMillis(49), bucket);
        manualTime.timePasses(Duration.ofMillis(1));
        expectStep(100);
    }

    private void sweeperSettings(final SweepSettings settings)
    {
        sweeper.tell(new SweeperActor.SetSettings(settings));
        assertEquals(settings, settings());
    }

    @Test
    void shouldRepaceAtOnceWhenTheSettingsChange()
    {
        final BucketActor.SweepStep first = start(new SweepSettings(60_000, 0, 100));
        answer(first, 0, false, Long.MAX_VALUE);
        manualTime.expectNoMessageFor(Duration.ofSeconds(30), bucket);

        sweeperSettings(new SweepSettings(100, 0, 7));

        // At once, with the new budget, not when the old 60 s timer would have fired.
        final BucketActor.SweepStep second = expectStep(7);
        answer(second, 0, false, Long.MAX_VALUE);
        manualTime.expectNoMessageFor(Duration.ofMillis(99), bucket);
        manualTime.timePasses(Duration.ofMillis(1));
        final BucketActor.SweepStep third = expectStep(7);
        answer(third, 0, false, Long.MAX_VALUE);
        // The old timer is gone: from now on steps come every 100 ms.
        for (int i = 0; i < 3; i++)
        {
            manualTime.timePasses(Duration.ofMillis(100));
            answer(expectStep(7), 0, false, Long.MAX_VALUE);
        }
    }

    @Test
    void shouldKeepOneStepInFlightAtATime()
    {
        final BucketActor.SweepStep first = start(new SweepSettings(60_000, 0, 100));

        // A change of settings while a step is out does not send a second one.
        sweeperSettings(new SweepSettings(10, 0, 5));
        manualTime.expectNoMessageFor(Duration.ofSeconds(20), bucket);

        answer(first, 100, true, NOW_MS);
        expectStep(5);
        bucket.expectNoMessage(Duration.ofMillis(50));
    }

    @Test
    void shouldStepAgainWhenAStepIsNeverAnswered()
    {
        start(new SweepSettings(1_000, 0, 100));

        // The first step is lost. However long it takes, the sweeper should try again.
        manualTime.timePasses(Duration.ofMinutes(10));

        expectStep(100);
    }

    @Test
    void shouldAnswerWithItsSettings()
    {
        final SweepSettings settings = new SweepSettings(250, 10, 64);
        start(settings);
        assertEquals(settings, settings());
    }
}
