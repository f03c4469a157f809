pragma circom 2.1.0;

// The opening of a CoO-zk-v1 commitment (registry/zk/commitment.py states the encoding):
//
//   item_leaf  = Poseidon(fob, vnm, quantity, hs_digits, hs_length, item_flags)
//   items_root = binary Poseidon tree of depth DEPTH over the item leaves (index = position, empty = 0)
//   commitment = Poseidon(DOMAIN, salt, issue_day, departure_day, header_flags, items_root)
//
// DOMAIN is the ASCII "CoO-zk-v1" read as a big-endian integer.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

function DOMAIN() { return 1243952532403717502513; }

// The root of a Poseidon tree from a leaf, its index (bits, leaf level first) and its siblings.
template MerkleRoot(depth) {
    signal input leaf;
    signal input index;
    signal input siblings[depth];
    signal output root;

    component bits = Num2Bits(depth);
    bits.in <== index;
    component hashes[depth];
    signal level[depth + 1];
    signal left[depth];
    signal right[depth];
    level[0] <== leaf;
    for (var i = 0; i < depth; i++) {
        // bit 0: (level, sibling); bit 1: (sibling, level)
        left[i] <== level[i] + bits.out[i] * (siblings[i] - level[i]);
        right[i] <== level[i] + siblings[i] - left[i];
        hashes[i] = Poseidon(2);
        hashes[i].inputs[0] <== left[i];
        hashes[i].inputs[1] <== right[i];
        level[i + 1] <== hashes[i].out;
    }
    root <== level[depth];
}

// The commitment over the header and the items root.
template Header() {
    signal input salt;
    signal input issueDay;
    signal input departureDay;
    signal input headerFlags;
    signal input itemsRoot;
    signal output commitment;

    component hash = Poseidon(6);
    hash.inputs[0] <== DOMAIN();
    hash.inputs[1] <== salt;
    hash.inputs[2] <== issueDay;
    hash.inputs[3] <== departureDay;
    hash.inputs[4] <== headerFlags;
    hash.inputs[5] <== itemsRoot;
    commitment <== hash.out;
}

// One goods item opened under the public commitment, at the public index.
// Outputs its values (each range-checked to 64 bits) and its presence flags.
template ItemOpening(depth) {
    signal input commitment;
    signal input item;

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

    signal output fobPresent;
    signal output vnmPresent;

    component ranges[5];
    var values[5] = [fob, vnm, quantity, hsDigits, hsLength];
    for (var i = 0; i < 5; i++) {
        ranges[i] = Num2Bits(64);
        ranges[i].in <== values[i];
    }
    component flags = Num2Bits(2);
    flags.in <== itemFlags;
    fobPresent <== flags.out[0];
    vnmPresent <== flags.out[1];

    component leaf = Poseidon(6);
    leaf.inputs[0] <== fob;
    leaf.inputs[1] <== vnm;
    leaf.inputs[2] <== quantity;
    leaf.inputs[3] <== hsDigits;
    leaf.inputs[4] <== hsLength;
    leaf.inputs[5] <== itemFlags;

    component tree = MerkleRoot(depth);
    tree.leaf <== leaf.out;
    tree.index <== item;
    for (var i = 0; i < depth; i++) {
        tree.siblings[i] <== siblings[i];
    }

    component header = Header();
    header.salt <== salt;
    header.issueDay <== issueDay;
    header.departureDay <== departureDay;
    header.headerFlags <== headerFlags;
    header.itemsRoot <== tree.root;
    header.commitment === commitment;
}

// The value a public selector names: 0 FOB value, 1 non-originating value, 2 quantity; and whether it is present.
template SelectValue() {
    signal input field;
    signal input fob;
    signal input vnm;
    signal input quantity;
    signal input fobPresent;
    signal input vnmPresent;
    signal output value;
    signal output present;

    component is[3];
    for (var i = 0; i < 3; i++) {
        is[i] = IsEqual();
        is[i].in[0] <== field;
        is[i].in[1] <== i;
    }
    is[0].out + is[1].out + is[2].out === 1;
    signal parts[3];
    parts[0] <== is[0].out * fob;
    parts[1] <== is[1].out * vnm;
    parts[2] <== is[2].out * quantity;
    value <== parts[0] + parts[1] + parts[2];
    signal flagParts[2];
    flagParts[0] <== is[0].out * fobPresent;
    flagParts[1] <== is[1].out * vnmPresent;
    present <== flagParts[0] + flagParts[1] + is[2].out;
}
