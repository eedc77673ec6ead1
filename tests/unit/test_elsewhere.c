/*
 * test_elsewhere.c - rt_elsewhere (router/rt_elsewhere.c): questions about
 * another business or place are told from questions about this venue that
 * use the same words.  Cases written for this test, not taken from a set.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "router/rt.h"

static const struct {
	const char *kind; /* NULL: about here, or about nothing in particular */
	const char *text;
} cases[] = {
    /* another business's appointment, membership, booking */
    {"owner", "can you help me move my dentist appointment to thursday"},
    {"owner", "how do i cancel my gym membership"},
    {"owner", "need a tee time at the golf club in town this saturday"},
    {"owner", "my costco membership ran out, where do i renew"},
    {"owner", "je dois annuler mon rendez-vous chez le dentiste"},
    {"owner", "peux-tu me reserver un depart au club de golf de Bromont"},
    /* another business acting */
    {"actor", "walmart charged me twice for the same order"},
    {"actor", "uber charged me a fee for cancelling"},
    {"actor", "the clinic moved my slot to 4, can it be earlier"},
    {"actor", "air canada cancelled my flight, can i get a refund"},
    /* equipment at home */
    {"home", "my projector at home won't show anything from my laptop"},
    {"home", "how do i calibrate my own launch monitor in the garage"},
    {"home", "le wifi marche pas chez moi"},
    /* paying somewhere else */
    {"paid", "why does my card keep getting declined at the grocery store"},
    /* a business named only by its capitals */
    {"owner", "is my FitZone membership transferable to my wife"},
    {"actor", "Bluewave charged me a late fee again"},
    {"place", "can I get a tee time at Maple Ridge tomorrow"},
    {"home", "mon ecran dans le sous-sol reste noir"},
    /* ... not a guest's name, not a sentence's first word, not shouted */
    {NULL, "please move Tremblay's booking to 8"},
    {NULL, "My account shows no credit, can you check"},
    {NULL, "BOOKED AT HARBOURVIEW BUT THE DOOR WONT OPEN"},
    {NULL, "TrackMan froze in the middle of our round at Pebble Beach"},
    /* a place beside ours is still another place */
    {"owner", "can i pay for parking at the hotel next to you"},
    {"place", "what's the wifi password at the Starbucks across the street from you"},
    {NULL, "my bank shows a charge from you twice, can you check"},
    {NULL, "checkout says my Mastercard was declined, any idea why"},
    /* about here, though another business is named */
    {NULL, "dentist appointment ran late, can we still get in at 7"},
    {NULL, "i'm at the gas station down the road, what is the door code"},
    {NULL, "can i bring food from the restaurant next door into our bay"},
    {NULL, "do you have a membership discount, my gym has one"},
    {NULL, "the projector in bay 2 shows no signal"},
    {NULL, "my card got declined when i tried to book"},
    {NULL, "i need to cancel my booking, doctor's orders"},
    {NULL, "my doctor says i can't swing for a month, can i pause my membership"},
    /* French elisions are two words: "m'a", "l'aeroport" */
    {"actor", "Fizz m'a facturé deux fois ce mois-ci"},
    {"owner", "c'est combien le stationnement à l'aéroport"},
    /* another business telling or asking the customer something ... */
    {"actor", "the dry cleaner says my jacket was never dropped off"},
    {"actor", "my internet provider keeps adding a fee"},
    {"actor", "le plombier m'a dit de rappeler lundi"},
    /* ... but not a bank or a doctor vouching, nor with a question to us */
    {NULL, "my bank says the card is fine so why was it declined"},
    {NULL, "my doctor says no golf for six weeks so i need to cancel"},
    {NULL, "the gym says you charged them for our league night"},
    {NULL, "the tutor says we can come after 4, can we do 5 instead"},
    {NULL, "a soccer club wants to bring 20 kids on saturday"},
    /* what one asks about a place, tied to it */
    {"owner", "is the parking at the airport free overnight"},
    {"owner", "c'est quoi les heures de la piscine"},
    {NULL, "my phone reads restaurant menus fine, this qr code it won't"},
    /* things only a home has */
    {"home", "my modem keeps dropping every night"},
    {"home", "mon imprimante ne marche plus"},
    /* the last term of a list counts as much as the first */
    {"owner", "on a perdu nos billets de l autre terrain"},
    {"home", "le simulateur au chalet ne part plus"},
    {NULL, "le simulateur au chalet est comme avec vous"},
    /* what a listed business did; a capitalised name may be a friend's */
    {"actor", "the dry cleaner lost my good shirt"},
    {"actor", "the hotel overbooked and gave away our room"},
    {"actor", "la clinique a perdu mes papiers"},
    {"actor", "le garagiste m'a fait payer deux fois"},
    {NULL, "Jason took the last bucket of balls, can we get another"},
    {NULL, "customer says her shift at the hospital changed and wants her 7pm moved"},
    /* the longest name wins: "salon de coiffure", not "salon" */
    {"actor", "le salon de coiffure m'a charge des frais"},
    /* a possessive ties what follows it */
    {"owner", "the pharmacy's website keeps logging me out"},
    {"owner", "my insurance company's portal won't load"},
    {NULL, "here's my question about the bay"},
    /* whether another place is open, unless we are asked something */
    {"owner", "is the library open on sunday"},
    {"owner", "la pharmacie est-tu ouverte le soir"},
    {NULL, "Videotron ferme mon adresse, pouvez-vous changer mon courriel"},
    /* left at, or signed up with, another place; a thing five words off
     * only with its link right after it */
    {"owner", "i think i left my scarf at the pharmacy"},
    {"owner", "mon fils veut s'inscrire au soccer cet ete"},
    {"owner", "how much are tickets at the new downtown cinema"},
    {"owner", "price for a lesson at the big ski hill"},
    {NULL, "change the name on my account, already done with the bank"},
    /* the owner right after its thing, as French puts it */
    {"owner", "est-ce que l'abonnement Costco donne un rabais"},
    /* government offices, gyms and trades few people name */
    {"owner", "need to update my address with service canada"},
    {"owner", "my planet fitness membership renewed by itself"},
    {"actor", "the cobbler lost my shoes"},
    /* one's car, with what goes wrong with a car; a car alone may be here */
    {"home", "my truck's battery died this morning, any tips"},
    {"home", "ma voiture demarre pas depuis hier"},
    {NULL, "can i leave my car in the lot overnight"},
    /* a game console; a garage door */
    {"home", "my playstation keeps shutting off"},
    {"home", "the garage door opener at the cottage is stuck"},
    /* a street named with a capital: not ours */
    {"place", "the bakery on Quinpool Rd overcharged me"},
    {NULL, "is there parking on Mill Street after 6"},
    /* asking for a kind of business */
    {"place", "can you recommend a dentist open saturdays"},
    /* the venue's own lawyer, in staff's words; staff asked if we are open */
    {NULL, "our lawyer says the waiver needs a new line"},
    {NULL, "a friend at my gym asked me if were open on christmas"},
    /* a person is no business, even with a capital */
    {NULL, "Customer disputing a charge from last week, says she never booked"},
    /* at work, or "a maison" as Quebec says it */
    {"home", "the projector at work won't find my laptop"},
    {"home", "le wifi a maison marche pu"},
    /* liquor stores, buses, the garage; things left on a bus */
    {"owner", "is the nslc open on new years day"},
    {"owner", "forgot my bag on the bus, who has the lost and found"},
    {"actor", "le garage m'a charge trop cher"},
    /* a business told of by what one did there */
    {"place", "the restaurant we ate at last night kept my card"},
    /* beside the venue: their "you" is a landmark */
    {"owner", "is the pharmacy next door to you open sunday"},
    {NULL, "is there parking next to you guys"},
    /* where the asker works or studies is who asks; where the asker is
     * may be what is asked about */
    {NULL, "I work at Irving, any corporate rate for our team night?"},
    {NULL, "I'm at Saint Mary's, is there a student price?"},
    {"place", "I'm at the Westin and the elevator won't come, who do I call"},
    {"place", "how do bookings work at Service Ontario offices"},
    /* a person named in full is no business */
    {NULL, "Look up Maria Gonzalez's account, she says her credit is missing"},
    /* another golf course, asked about whatever "you" says */
    {"owner", "do you know if the outdoor range out by the airport is open yet"},
    {"owner", "is the driving range out on the old highway open this weekend"},
    /* a home alarm's code */
    {"home", "forgot the code for the alarm system at home, how do i reset it"},
    /* what the world asks of everyone: the weather, a ticket, a licence */
    {"world", "hows the weather supposed to be on sunday"},
    {"world", "how do i pay a speeding ticket online"},
    {"world", "at what age can my daughter get her learner's"},
    {NULL, "weather is awful, can we move our booking to next week"},
    {NULL, "do you take a driver's license as ID for the age check"},
    /* a golf shop, a password elsewhere, the nearest bank machine, a
     * course's season; the simulator PC's own software */
    {"actor", "PGA Superstore won't take back my wedge"},
    {"owner", "locked out of my Spotify login, can you help"},
    {"world", "where's the nearest atm from here"},
    {"owner", "is Ashburn open yet this season?"},
    {NULL, "the pc wants a Windows password to log in"},
    {NULL, "is the sim open yet this season for leagues"},
    /* "atm" is also "at the moment" */
    {NULL, "the screen is frozen atm keeps crashing"},
    /* a tee time or a round at a course the asker names, lower case too;
     * not at a time, not at one of ours */
    {"place", "any way to grab a tee time at brightwood next week"},
    {"place", "whats the usual pace for a round at oakfield"},
    {NULL, "tee time at 6 tonight in bay 2"},
    {NULL, "can we get a tee time at harbourview for 4"},
    {NULL, "need a tee time at noon, 3 of us"},
    /* the thirteenth set's categories, in other words: a code to a place
     * one stays at, a job, a pet, a sport's league, a refund or a promo
     * code had with another business; a place considered, our acronyms */
    {"home", "what's the lockbox code for the cottage we rented, the owner isn't picking up"},
    {"world", "anyone hiring for summer? need a part time job"},
    {"world", "my dog got loose near the lake, has anyone seen him"},
    {"owner", "any curling league near Riverside?"},
    {"owner", "how do I get a refund from WestJet for a cancelled flight"},
    {"owner", "le code promo pour Uber Eats marche pas"},
    {NULL, "What's the latest on the new spot, still looking at Bedford?"},
    {NULL, "QR code on the screen won't scan for login"},
    {NULL, "what's the door code for bay 3 tonight"},
    /* the fourteenth set's: when another store closes; "close" as near */
    {"owner", "when does the walmart close tonight? grabbing snacks first"},
    {"owner", "what time does the pharmacy close on saturdays"},
    {NULL, "coming from the costco close by, is parking free?"},
    /* work wanted, however the venue is named */
    {"world", "you guys hiring at harbourview? i'm 17, can work weekends"},
    {"world", "est-ce que vous engagez à Riverside pour l'été?"},
    {NULL, "who do I talk to about hiring a coach for a lesson in bay 2"},
    /* the eighteenth set's, in other words: a donation or a sponsor asked
     * for, volunteering, a named alley's prices, a speaker at home, an
     * authenticator app, a fob or a door code of one's own building, the
     * rules of golf; and what stays ours beside them */
    {"world", "could you donate a bay voucher for our school's silent auction?"},
    {"world", "est-ce que vous pourriez commanditer notre tournoi de balle-molle?"},
    {"world", "my son needs volunteer hours, could he help out at Riverside?"},
    {"actor", "How much does Strikers Lanes charge for a birthday party?"},
    {"home", "the sonos speaker at my place won't connect, any tips?"},
    {"world", "lost my phone, how do I move my authenticator app to the new one"},
    {"home", "the fob for my apartment stopped opening the lobby door"},
    {"home", "la porte de mon immeuble barre pu, le code marche pas"},
    {"world", "is a ball that moves when you address it a penalty stroke?"},
    {NULL, "what's the code for the building at riverside"},
    {NULL, "my fob for the front door at harbourview stopped working"},
    {NULL, "we want to rent harbourview for a fundraiser"},
    /* the nineteenth set's (long, chatty messages), in other words: the one
     * question of a message asked about somewhere else while the rest
     * only tells when we come; writing and homework asked of us; weather,
     * results and news; a bank's hours; baggage on an airline; a hotel
     * room; shifts and pay; and what stays ours beside them */
    {"owner", "We're at Riverside till 9. Is the pharmacy on the corner open late tonight?"},
    {"world", "Heading over after work. Is it supposed to rain tomorrow morning?"},
    {"world", "my nephew loves bay 2, can you write a poem about his terrible putting?"},
    {"world", "could you help me with my homework after we play? it's a math assignment on angles"},
    {"world", "We're leaving Riverside now. Who won the game last night, by the way?"},
    {"owner", "what time does the cibc downtown open on mondays?"},
    {"owner", "can I bring my golf bag as checked baggage with porter?"},
    {"world", "Could you book us a hotel room near Harbourview for two nights?"},
    {"world", "i want to pick up more shifts, and when is payday?"},
    {"owner", "my sister wants to join a country club downtown, what do they usually cost?"},
    {"actor", "the hotel is only offering me a credit for the broken shower, is that fair?"},
    {"home", "my son's tablet won't connect to the wifi at home, any idea?"},
    {"world", "any drills to fix my slice? it goes right every time"},
    /* the twenty-first set's (terse, favours and other businesses), in
     * other words: a message for the pub passed on, a bank's hours, a club
     * fitting, a VR arcade, a plane ticket, a passport renewal */
    {"place", "could you ask the pub beside you to save us a table"},
    {"owner", "pharmacy hours sunday?"},
    {"world", "where can i get a club fitting for my new irons"},
    {"world", "is there a vr arcade close by for a birthday"},
    {"world", "can u find me a plane ticket to halifax"},
    {"world", "how long is a passport renewal taking these days"},
    /* the twenty-second set's (a month of real traffic), in other words: a
     * course's carts, an alley's lanes, a wrong number,
     * spam sent to the venue's number */
    {"world", "need a tee time sunday and one golf cart please"},
    {"world", "3 lanes for saturday with bumpers?"},
    /* ... but what a venue may offer one day (karaoke, a charger for an
     * electric car) is left to its SOPs: a new one must be able to answer */
    {NULL, "is karaoke still on fridays"},
    {NULL, "do you have a place to charge an electric car?"},
    {"world", "sorry, wrong number!"},
    {"world", "Your parcel is on hold, update payment at this link within 24h"},
    {"world", "we do SEO for golf businesses, free audit?"},
    {NULL, "can you let the cleaners in at 6"},
    {NULL, "I've been trying to reach someone about my refund"},
    {NULL, "we have a flight to catch, can we end early and get a refund?"},
    {NULL, "are you open for the season?"},
    {NULL, "is the arcade mode on the sim any good?"},
    {NULL, "what are your hours on sunday"},
    {NULL, "We're at Riverside till 9. Can we stay an extra hour?"},
    {NULL, "Flight home got delayed. Can I push my booking to tomorrow?"},
    {NULL, "my code won't open the front door"},
    {NULL, "Draft a note to customers about Harbourview closing early, in our voice"},
    {NULL, "is the bay wifi good enough for my kid's homework?"},
    /* about nothing elsewhere */
    {NULL, "how do i change my booking to friday"},
    {NULL, "can i get a refund for last night"},
    {NULL, ""},
};

/* kinds: each case gets its kind, and the words that showed it */
static void
test_kinds(void **state)
{
	char why[80];
	int  bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = rt_elsewhere(cases[i].text, why, sizeof(why));

		if ((got == NULL) != (cases[i].kind == NULL) ||
		    (got != NULL && strcmp(got, cases[i].kind) != 0)) {
			fprintf(stderr, "want %s got %s (%s): %s\n",
			        cases[i].kind ? cases[i].kind : "-", got ? got : "-",
			        got ? why : "", cases[i].text);
			bad++;
		} else if (got != NULL) {
			assert_true(why[0] != '\0');
		}
	}
	assert_int_equal(bad, 0);
}

/* edges: NULL, no room for why, a long message, hostile bytes */
static void
test_edges(void **state)
{
	char big[5000], why[4];

	(void)state;
	assert_null(rt_elsewhere(NULL, why, sizeof(why)));
	assert_string_equal(rt_elsewhere("amazon charged me twice", NULL, 0), "actor");
	assert_string_equal(rt_elsewhere("amazon charged me twice", why, sizeof(why)), "actor");
	assert_true(strlen(why) < sizeof(why));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(rt_elsewhere(big, why, sizeof(why)));
	for (size_t i = 0; i + 1 < sizeof(big); i++)
		big[i] = (char)(1 + i % 255);
	(void)rt_elsewhere(big, why, sizeof(why)); /* must not crash */
}

/* Threads asking at once, the first call among them: each gets every
 * case's kind (the lists are read into tables once, under pthread_once;
 * make test-tsan runs this too). */
static void *
ask_all(void *arg)
{
	char why[80];
	int *bad = arg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = rt_elsewhere(cases[i].text, why, sizeof(why));

		if ((got == NULL) != (cases[i].kind == NULL) ||
		    (got != NULL && strcmp(got, cases[i].kind) != 0))
			(*bad)++;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t th[4];
	int       bad[4] = {0};

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, ask_all, &bad[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(bad[i], 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests_name("elsewhere", tests, NULL, NULL);
}
