/**
 * NAT actions and address/port pools, the bounded unique-tuple search, the ordered two-bucket reservation protocol (owner asks the reply tuple's bucket), and cluster leasing of port blocks.
 */
package io.ctrack.nat;
