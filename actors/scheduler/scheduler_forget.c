//  The scheduler's pure part of a GDPR erase (see scheduler.h, "Forgetting
//  a person"): whether a booking names the person. A booking is matched on
//  whole values (its Bird contact id, its phone) rather than on tokens of
//  text, because it holds ids, never free text about the person.
#include "scheduler.h"

bool
sched_booking_refers_to (const sched_booking_t *b, const zhub_forget_t *f)
{
    if (zhub_forget_is (f, b->bird_id))
        return true;
    if (!b->phone || !*b->phone)
        return false;
    //  The phone as kept, and without its "+" (the identifiers hold both
    //  forms of the person's phone; the booking may hold either).
    return zhub_forget_is (f, b->phone) || (b->phone[0] == '+' && zhub_forget_is (f, b->phone + 1));
}
