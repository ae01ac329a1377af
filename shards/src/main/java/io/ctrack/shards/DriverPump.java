package io.ctrack.shards;

import org.agrona.concurrent.AgentInvoker;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.time.Duration;

/**
 * Drives an embedded Aeron media driver that has no thread of its own ({@code INVOKER} mode) from the bucket
 * dispatcher: each {@code Tick} runs one duty cycle. While the driver finds work (publication limits to move under
 * traffic) or has found some recently, it ticks again right away through the mailbox, between the buckets'
 * messages; once idle it ticks on a timer. An actor handles one message at a time, which is what the invoker
 * needs; and the driver never becomes an extra busy thread.
 */
final class DriverPump
{
    private static final int IDLE_TICKS_BEFORE_TIMER = 256;
    private static final Duration IDLE_PERIOD = Duration.ofMillis(1);

    private DriverPump()
    {
    }

    private enum Tick
    {
        INSTANCE
    }

    static Behavior<Object> create(final io.ctrack.transport.EmbeddedDriver driver)
    {
        return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        {
            // From here on this actor alone drives the driver.
            driver.handOver();
            final AgentInvoker invoker = driver.invoker();
            final int[] idleTicks = { 0 };
            context.getSelf().tell(Tick.INSTANCE);
            return Behaviors.receive(Object.class)
                .onMessageEquals(Tick.INSTANCE, () ->
                {
                    if (invoker.invoke() > 0)
                    {
                        idleTicks[0] = 0;
                    }
                    else
                    {
                        idleTicks[0]++;
                    }
                    if (idleTicks[0] < IDLE_TICKS_BEFORE_TIMER)
                    {
                        context.getSelf().tell(Tick.INSTANCE);
                    }
                    else
                    {
                        idleTicks[0] = IDLE_TICKS_BEFORE_TIMER / 2;
                        timers.startSingleTimer(Tick.INSTANCE, IDLE_PERIOD);
                    }
                    return Behaviors.same();
                })
                .build();
        }));
    }
}
