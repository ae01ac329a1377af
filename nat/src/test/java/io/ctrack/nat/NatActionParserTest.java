package io.ctrack.nat;

import io.ctrack.engine.nat.NatSpec;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NatActionParserTest
{
    @Test
    void shouldParseOpenVswitchForms()
    {
        assertEquals(NatSpec.PLAIN, NatActionParser.parse("nat"));
        assertEquals("nat(src=10.0.0.1)", NatActionParser.parse("nat(src=10.0.0.1)").toString());
        assertEquals("nat(src=10.0.0.1-10.0.0.9:1024-2048,random,persistent)",
            NatActionParser.parse("src=10.0.0.1-10.0.0.9:1024-2048,random,persistent").toString());
        assertEquals("nat(dst=10.1.1.5:80)", NatActionParser.parse("nat(dst=10.1.1.5:80)").toString());
        assertEquals("nat(dst=[2001:db8::1]-[2001:db8::9]:80-90,hash)",
            NatActionParser.parse("nat(dst=[2001:db8::1]-[2001:db8::9]:80-90,hash)").toString());
        assertEquals("nat(src=[2001:db8::7])", NatActionParser.parse("nat(src=2001:db8::7)").toString());
        final NatSpec portsOnly = NatActionParser.parse("nat(src)");
        assertTrue(portsOnly.isSource() && !portsOnly.hasAddress() && !portsOnly.hasPorts());
        final NatSpec spec = NatActionParser.parse("src=192.168.1.1-192.168.1.4:6000-6009");
        assertEquals(NatSpec.ACTION_SRC | NatSpec.ACTION_SRC_PORT, spec.action());
        assertEquals(6000, spec.minPort());
        assertEquals(6009, spec.maxPort());
        assertEquals(0xC0A80104L, spec.maxLo());
    }

    @Test
    void shouldRejectWhatOpenVswitchRejects()
    {
        assertEquals("May only specify one of \"src\" or \"dst\".",
            assertThrows(IllegalArgumentException.class, () -> NatActionParser.parse("nat(src=1.1.1.1,dst=2.2.2.2)")).getMessage());
        assertEquals("Both \"hash\" and \"random\" are not allowed.",
            assertThrows(IllegalArgumentException.class, () -> NatActionParser.parse("nat(src=1.1.1.1,hash,random)")).getMessage());
        assertEquals("Flags allowed only with \"src\" or \"dst\".",
            assertThrows(IllegalArgumentException.class, () -> NatActionParser.parse("nat(random)")).getMessage());
        assertEquals("invalid nat range \"10.0.0.9-10.0.0.1\"",
            assertThrows(IllegalArgumentException.class, () -> NatActionParser.parse("nat(src=10.0.0.9-10.0.0.1)")).getMessage());
        assertEquals("invalid nat range \"10.0.0.1:90-80\"",
            assertThrows(IllegalArgumentException.class, () -> NatActionParser.parse("nat(src=10.0.0.1:90-80)")).getMessage());
        assertEquals("garbage (x) after nat range \"10.0.0.1x\" (pos: 8)",
            assertThrows(IllegalArgumentException.class, () -> NatActionParser.parse("nat(src=10.0.0.1x)")).getMessage());
        assertEquals("invalid key \"sorc\" in \"nat\" argument",
            assertThrows(IllegalArgumentException.class, () -> NatActionParser.parse("nat(sorc=1.1.1.1)")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> NatActionParser.parse("nat(src=1.1.1.1-[2001:db8::1])"));
        assertThrows(IllegalArgumentException.class, () -> NatActionParser.parse("nat(src=1.1.1.1:70000)"));
    }
}
