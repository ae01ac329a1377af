package io.ctrack.shards;

import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.time.Duration;

/**
 * Keeps an embedded Aeron media driver that has no thread of its own ({@code INVOKER} mode) running when nobody
 * else does: idle buckets and waiting packet workers run its duty cycle (see {@link io.ctrack.transport.DriverDuty}),
 * and this actor runs it on a timer every millisecond, so a node without traffic still answers the driver's
 * keepalives and stream set-ups. It never spins: under traffic the buckets and workers do the driver's work.
 */
final class DriverPump
{
    private static final Duration PERIOD = Duration.ofMillis(1);

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
            // From here on the driver runs only through its shared duty (this actor and the workers).
            driver.handOver();
            final io.ctrack.transport.DriverDuty duty = driver.duty();
            duty.tryInvoke();
            timers.startTimerWithFixedDelay(Tick.INSTANCE, PERIOD);
            return Behaviors.receive(Object.class)
                .onMessageEquals(Tick.INSTANCE, () ->
                {
                    // Catch up on what accumulated since the last tick, boundedly.
                    for (int i = 0; i < 16 && duty.tryInvoke() > 0; i++)
                    {
                        // keep going while there is work
                    }
                    return Behaviors.same();
                })
                .build();
        }));
    }
}
