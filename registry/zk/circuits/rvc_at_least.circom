pragma circom 2.1.0;

// Build-down regional value content of one goods item is at least `percent` %:
//   (FOB - VNM) * 100 >= percent * FOB, with 0 < FOB and VNM <= FOB.

include "opening.circom";

template RvcAtLeast(depth) {
    signal input commitment;
    signal input item;
    signal input percent;

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
    opening.fobPresent === 1;
    opening.vnmPresent === 1;

    component percentRange = Num2Bits(7);
    percentRange.in <== percent;
    component positive = IsZero();
    positive.in <== fob;
    positive.out === 0;
    component bounded = LessEqThan(64);
    bounded.in[0] <== vnm;
    bounded.in[1] <== fob;
    bounded.out === 1;
    component rule = LessEqThan(72);
    rule.in[0] <== percent * fob;
    rule.in[1] <== (fob - vnm) * 100;
    rule.out === 1;
}

component main {public [commitment, item, percent]} = RvcAtLeast(10);
