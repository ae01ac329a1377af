package io.ctrack.app;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.ctrack.app.ReplayCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Source NAT of whole captures against {@code ovs-vswitchd}'s table after the same packets went through
 * {@code ct(commit,nat(src=...))} ({@code testdata/differential/expected/FILE.snat.dump.txt}, see its README): the
 * same connections, states and reply tuples on every engine. The address picked from a range of two depends on a
 * hash with a per-process random basis in Open vSwitch, so both tables name it {@code 10.9.0.X}.
 */
class ReplayNatOvsTest
{
    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        "ipv4.pcap, src=10.9.0.1-10.9.0.2, --engine=embedded",
        "ipv4.pcap, src=10.9.0.1-10.9.0.2, --buckets=1",
        "ipv4.pcap, src=10.9.0.1-10.9.0.2, --buckets=16",
        "ipv6.pcap, 'src=[fd00::99]', --engine=embedded",
        "ipv6.pcap, 'src=[fd00::99]', --buckets=16",
    })
    void shouldTranslateAsOvsVswitchdDid(final String name, final String nat, final String engine) throws Exception
    {
        final Path dir = ReplayEnginesTest.differential();
        final ReplayCommandTest.Result result = run("replay", dir.resolve(name).toString(), "--nat", nat, "--dump",
            engine);
        assertEquals(0, result.exitCode(), result.err());

        final List<String> table = result.out().lines().filter(l -> !l.matches("\\d+: .*"))
            .map(l -> l.replaceAll("10\\.9\\.0\\.[12]", "10.9.0.X")).sorted().toList();
        assertEquals(Files.readAllLines(dir.resolve("expected").resolve(name + ".snat.dump.txt")), table);
    }
}
