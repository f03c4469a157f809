pragma circom 2.1.0;

// The HS code of one goods item begins with the `digits` digits `prefix` (chapter 2, heading 4, subheading 6):
// hs_digits (the code padded with zeros to 10 digits) = prefix * 10^(10 - digits) + r, 0 <= r < 10^(10 - digits),
// and the code has at least `digits` digits.

include "opening.circom";

template HsPrefix(depth) {
    signal input commitment;
    signal input item;
    signal input digits;
    signal input prefix;

    signal input salt;
    signal input issueDay;
    signal input departureDay;
    signal input headerFlags;
    signal input fob;
    signal input vnm;
    signal input quantity;
    signal input hsDigits;
    signal input hsLength;
    signal input itemFlags;
    signal input siblings[depth];

    component opening = ItemOpening(depth);
    opening.commitment <== commitment;
    opening.item <== item;
    opening.salt <== salt;
    opening.issueDay <== issueDay;
    opening.departureDay <== departureDay;
    opening.headerFlags <== headerFlags;
    opening.fob <== fob;
    opening.vnm <== vnm;
    opening.quantity <== quantity;
    opening.hsDigits <== hsDigits;
    opening.hsLength <== hsLength;
    opening.itemFlags <== itemFlags;
    for (var i = 0; i < depth; i++) {
        opening.siblings[i] <== siblings[i];
    }

    component prefixRange = Num2Bits(34);
    prefixRange.in <== prefix;
    component long = LessEqThan(64);
    long.in[0] <== digits;
    long.in[1] <== hsLength;
    long.out === 1;

    component is[10];
    var total = 0;
    var scale = 0;
    signal parts[10];
    for (var j = 0; j < 10; j++) {
        is[j] = IsEqual();
        is[j].in[0] <== digits;
        is[j].in[1] <== j + 1;
        total += is[j].out;
        scale += is[j].out * (10 ** (9 - j));
    }
    total === 1;
    signal pow;
    pow <== scale;
    signal head;
    head <== prefix * pow;
    signal rest;
    rest <== hsDigits - head;
    component restRange = Num2Bits(64);
    restRange.in <== rest;
    component below = LessThan(64);
    below.in[0] <== rest;
    below.in[1] <== pow;
    below.out === 1;
}

component main {public [commitment, item, digits, prefix]} = HsPrefix(10);
