-- Which of a ticket's optional inputs its CRM ever sent: bit 1 `contacts`, bit 2
-- `transferred`, bit 4 `abandoned`. An input never sent is unknown (first-contact
-- resolution, transfer and abandonment rates then leave the ticket out) rather than a
-- default that reads as a perfect score. Rows stored before counted every input as sent.
ALTER TABLE tickets ADD COLUMN known INTEGER NOT NULL DEFAULT 7;
