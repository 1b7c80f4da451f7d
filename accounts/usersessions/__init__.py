"""Sessions users can see and end: one per login on one device (a refresh-token family or a
browser's Django session), listed with the device, ended at once wherever it is used."""
