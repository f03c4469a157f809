pragma circom 2.1.0;

// date_a - date_b <= maxDays, for two of the certificate's committed dates (0: issue date, 1: departure date),
// both present; day numbers count from 1900-01-01 (day 0).

include "opening.circom";

template DaysBetweenAtMost() {
    signal input commitment;
    signal input dateA;
    signal input dateB;
    signal input maxDays;

    signal input salt;
    signal input issueDay;
    signal input departureDay;
    signal input headerFlags;
    signal input itemsRoot;

    component header = Header();
    header.salt <== salt;
    header.issueDay <== issueDay;
    header.departureDay <== departureDay;
    header.headerFlags <== headerFlags;
    header.itemsRoot <== itemsRoot;
    header.commitment === commitment;

    component flags = Num2Bits(1);
    flags.in <== headerFlags;
    dateA * (dateA - 1) === 0;
    dateB * (dateB - 1) === 0;
    signal a;
    signal b;
    a <== issueDay + dateA * (departureDay - issueDay);
    b <== issueDay + dateB * (departureDay - issueDay);
    // a date that is the departure date needs it present
    signal missingA;
    signal missingB;
    missingA <== dateA * (1 - flags.out[0]);
    missingB <== dateB * (1 - flags.out[0]);
    missingA === 0;
    missingB === 0;

    component ranges[3];
    var values[3] = [issueDay, departureDay, maxDays];
    for (var i = 0; i < 3; i++) {
        ranges[i] = Num2Bits(32);
        ranges[i].in <== values[i];
    }
    component rule = LessEqThan(34);
    rule.in[0] <== a;
    rule.in[1] <== b + maxDays;
    rule.out === 1;
}

component main {public [commitment, dateA, dateB, maxDays]} = DaysBetweenAtMost();
