/**
 * Timeouts: the attributes of an Open vSwitch timeout policy with their defaults, named policies, and the
 * zone-to-policy mapping. Values are seconds, as in Open vSwitch's {@code ct_dpif_timeout_policy}.
 */
package io.ctrack.engine.timeout;
