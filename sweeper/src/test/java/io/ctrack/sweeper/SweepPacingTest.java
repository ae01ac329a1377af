package io.ctrack.sweeper;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.timeout.TimeoutAttr;
import io.ctrack.shards.BucketActor;
import io.ctrack.shards.ShardedNode;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.ctrack.sweeper.SweptNode.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pacing of sweeps on a running node: the budget bounds every step, a bucket that is behind is stepped again until
 * it has caught up, and a new interval takes effect at once.
 */
@ExtendWith(LogCapturingExtension.class)
class SweepPacingTest
{
    private SweptNode swept;

    @AfterEach
    void close()
    {
        if (swept != null)
        {
            swept.close();
        }
    }

    /** One step as a bucket answered it, with the connections it examined (from the bucket's counter). */
    record Step(long nowMs, int budget, int removed, boolean behind, long examined)
    {
    }

    /**
     * Stands between a sweeper and a bucket: forwards each step, and records the answer with what the step examined
     * (the bucket's counter moved by exactly that, as only this sweeper steps the bucket).
     */
    private static Behavior<Object> recorder(final ActorRef<BucketActor.Command> bucket, final ShardedNode node,
        final int bucketId, final List<Step> steps)
    {
        return Behaviors.setup(context ->
        {
            final ActorRef<BucketActor.Swept> self = context.getSelf().narrow();
            final Object[] pending = new Object[1];
            final long[] examinedBefore = new long[1];
            return Behaviors.receiveMessage(message ->
            {
                if (message instanceof BucketActor.SweepStep step)
                {
                    pending[0] = step;
                    examinedBefore[0] = node.bucketCounter(bucketId, EngineCounter.SWEEP_EXAMINED);
                    bucket.tell(new BucketActor.SweepStep(step.budget(), step.nowMs(), self));
                }
                else if (message instanceof BucketActor.Swept answer)
                {
                    final BucketActor.SweepStep step = (BucketActor.SweepStep)pending[0];
                    steps.add(new Step(step.nowMs(), step.budget(), answer.removed(), answer.behind(),
                        node.bucketCounter(bucketId, EngineCounter.SWEEP_EXAMINED) - examinedBefore[0]));
                    step.replyTo().tell(answer);
                }
                return Behaviors.same();
            });
        });
    }

    @Test
    @Timeout(60)
    void shouldExamineAtMostTheBudgetInEveryStepAndCatchUpWhileBehind()
    {
        final int budget = 16;
        final int flows = 500;
        // The node's own sweepers stay idle (an hour apart); the one under test is stepped through the recorder.
        swept = SweptNode.start(SweptNode.settings("sweep-budget", 1), new SweepSettings(3_600_000, 0, budget));
        final List<Step> steps = new CopyOnWriteArrayList<>();
        final ActorRef<Object> spy = swept.node.system().systemActorOf(
            recorder(swept.node.bucketRefs().get(0), swept.node, 0, steps), "recorder", Props.empty());
        swept.node.system().systemActorOf(SweeperActor.create(spy.narrow(), new SweepSettings(2, 0, budget),
            swept.clock::get), "sweeper-under-test", Props.empty());

        for (int i = 0; i < flows; i++)
        {
            swept.track(TimeoutClass.UDP_FIRST.frames(i), ExecParams.commit(0), T0);
        }
        assertEquals(flows, swept.count());
        SweptNode.await(() -> !steps.isEmpty(), "a first step");
        final int before = steps.size();
        final long expiration = T0 + TimeoutAttr.UDP_FIRST.defaultSeconds() * 1000L;
        swept.clock.set(swept.slotEnd(expiration));
        SweptNode.await(() -> swept.node.limits().count() == 0, "every connection swept");
        SweptNode.await(() -> !steps.get(steps.size() - 1).behind(), "the sweeper caught up");

        final List<Step> removing = new ArrayList<>();
        long removed = 0;
        for (final Step step : steps)
        {
            assertEquals(budget, step.budget());
            assertTrue(step.examined() <= budget, "a step examined " + step.examined() + " > budget " + budget);
            assertTrue(step.removed() <= step.examined(), step.toString());
            removed += step.removed();
            if (step.removed() > 0)
            {
                removing.add(step);
            }
        }
        assertEquals(flows, removed);
        assertEquals((flows + budget - 1) / budget, removing.size(), "every step but the last one took a full budget");
        for (int i = 0; i < removing.size() - 1; i++)
        {
            assertEquals(budget, removing.get(i).removed());
            assertTrue(removing.get(i).behind(), "a full step leaves the bucket behind: " + removing.get(i));
        }
        assertTrue(steps.size() > before);
        final long atBudget = swept.node.bucketCounter(0, EngineCounter.SWEEP_STEPS_AT_BUDGET);
        assertTrue(atBudget >= flows / budget, "steps at budget: " + atBudget);
    }

    @Test
    @Timeout(60)
    void shouldBoundEveryBucketsStepsByTheBudget()
    {
        final int budget = 8;
        final int flows = 400;
        swept = SweptNode.start(SweptNode.settings("sweep-budget-counters", 4), new SweepSettings(2, 0, budget));
        for (int i = 0; i < flows; i++)
        {
            swept.track(TimeoutClass.UDP_FIRST.frames(i), ExecParams.commit(0), T0);
        }
        final long[] perBucket = new long[swept.node.buckets()];
        final long expiration = T0 + TimeoutAttr.UDP_FIRST.defaultSeconds() * 1000L;
        swept.sweepAt(swept.slotEnd(expiration));
        SweptNode.await(() -> swept.node.limits().count() == 0, "every connection swept");

        long expired = 0;
        for (int b = 0; b < perBucket.length; b++)
        {
            final long steps = swept.node.bucketCounter(b, EngineCounter.SWEEP_STEPS);
            final long examined = swept.node.bucketCounter(b, EngineCounter.SWEEP_EXAMINED);
            final long atBudget = swept.node.bucketCounter(b, EngineCounter.SWEEP_STEPS_AT_BUDGET);
            final long removed = swept.node.bucketCounter(b, EngineCounter.CONN_EXPIRED);
            expired += removed;
            assertTrue(examined <= steps * budget, "bucket " + b + ": " + examined + " examined in " + steps + " steps");
            assertTrue(examined >= removed, "bucket " + b);
            assertTrue(atBudget >= removed / budget, "bucket " + b + ": " + atBudget + " steps at budget for "
                + removed + " removals");
        }
        assertEquals(flows, expired);
        assertEquals(flows, swept.total(EngineCounter.CONN_EXPIRED));
    }

    @Test
    @Timeout(60)
    void shouldTakeANewIntervalAtOnce()
    {
        final int flows = 50;
        swept = SweptNode.start(SweptNode.settings("sweep-interval", 2), new SweepSettings(60_000, 0, 1_000));
        // The first step of each sweeper finds an empty table, so the next one is a whole interval away.
        SweptNode.await(() -> swept.total(EngineCounter.SWEEP_STEPS) == swept.node.buckets(), "the first steps");
        for (int i = 0; i < flows; i++)
        {
            swept.track(TimeoutClass.UDP_FIRST.frames(i), ExecParams.commit(0), T0);
        }
        final long expiration = T0 + TimeoutAttr.UDP_FIRST.defaultSeconds() * 1000L;
        swept.clock.set(swept.slotEnd(expiration));
        assertEquals(flows, swept.count(), "nothing sweeps before the interval");
        assertEquals(swept.node.buckets(), swept.total(EngineCounter.SWEEP_STEPS));

        swept.sweepers.intervalMs(5);

        assertEquals(5, swept.sweepers.intervalMs());
        assertEquals(new SweepSettings(5, 0, 1_000), swept.sweepers.settings());
        SweptNode.await(() -> swept.node.limits().count() == 0, "sweeping at the new interval");
        assertEquals(flows, swept.total(EngineCounter.CONN_EXPIRED));
        // And it keeps stepping at the new interval, with nothing left to do.
        final long steps = swept.total(EngineCounter.SWEEP_STEPS);
        SweptNode.await(() -> swept.total(EngineCounter.SWEEP_STEPS) >= steps + 4, "steps at the new interval");
        assertFalse(swept.count() > 0);
    }
}
