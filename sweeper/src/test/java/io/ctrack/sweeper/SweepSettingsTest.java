package io.ctrack.sweeper;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SweepSettingsTest
{
    @Test
    void shouldRefuseSettingsThatCannotPace()
    {
        assertThrows(IllegalArgumentException.class, () -> new SweepSettings(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SweepSettings(10, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new SweepSettings(10, 11, 1));
        assertThrows(IllegalArgumentException.class, () -> new SweepSettings(10, 0, 0));
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> new SweepSettings(10, 0, 0));
        assertTrue(ex.getMessage().contains("budget"), ex.getMessage());
    }

    @Test
    void shouldKeepTheMinimumIntervalWithinANewInterval()
    {
        final SweepSettings settings = new SweepSettings(1_000, 200, 64);

        assertEquals(new SweepSettings(500, 200, 64), settings.withIntervalMs(500));
        assertEquals(new SweepSettings(100, 100, 64), settings.withIntervalMs(100));
        assertEquals(new SweepSettings(5_000, 200, 64), settings.withIntervalMs(5_000));
        assertThrows(IllegalArgumentException.class, () -> settings.withIntervalMs(0));
    }

    @Test
    void shouldDefaultToOpenVswitchsSweepInterval()
    {
        // Open vSwitch sweeps every second (ct-get-sweep-interval 1000) and at most 1000 connections per bucket step.
        assertEquals(new SweepSettings(1_000, 0, 1_000), SweepSettings.DEFAULT);
    }
}
