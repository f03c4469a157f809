pragma circom 2.1.0;

// One value of one goods item (field 0: FOB value, 1: non-originating value, 2: quantity) is at most `bound`
// (fixed-point units as committed: money in 1/10000, quantity in 1/1000000); the value must be present.

include "opening.circom";

template ValueAtMost(depth) {
    signal input commitment;
    signal input item;
    signal input field;
    signal input bound;

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

    component select = SelectValue();
    select.field <== field;
    select.fob <== fob;
    select.vnm <== vnm;
    select.quantity <== quantity;
    select.fobPresent <== opening.fobPresent;
    select.vnmPresent <== opening.vnmPresent;
    select.present === 1;

    component boundRange = Num2Bits(64);
    boundRange.in <== bound;
    component rule = LessEqThan(64);
    rule.in[0] <== select.value;
    rule.in[1] <== bound;
    rule.out === 1;
}

component main {public [commitment, item, field, bound]} = ValueAtMost(10);
