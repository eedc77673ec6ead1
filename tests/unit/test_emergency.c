/*
 * test_emergency.c - unit tests of the emergency decision
 *
 * Run by `make test` (cmocka; its own main).  Asserts router/emergency.c on
 * our own phrasings (positives with their slug, dramatic-but-harmless
 * negatives), on a table of cases by category and level (sight and sound,
 * French with and without accents, tense and hypotheticals, devices,
 * hyperbole, spills, the possible band), on the classifier fusion, on edge
 * cases, on severity order, on every message of the tuning set
 * tests/eval/emergency.jsonl (the held-back set is never read here), and on
 * every message of the ClubOS dev set: each "emergency" message must be
 * caught with its slug and no other message may be flagged.  The dev set is
 * read from $CLUBOS_DEV_SET, default ../shared/eval/clubos-dev.jsonl
 * (relative to the repository root, where make test runs); that one test is
 * skipped, saying so, when the file is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/emergency.h"

#define FIRE "emergency.fire-smoke"
#define MED "emergency.medical"
#define SEC "emergency.security-threat"
#define WATER "emergency.water-leak"
#define POWER "emergency.power-outage"

#define DEV_SET_DEFAULT "../shared/eval/clubos-dev.jsonl"
#define TUNING_SET "tests/eval/emergency.jsonl"

struct pos_case {
	const char *slug;
	const char *text;
};

/* Written for these tests, not taken from the dev set. */
static const struct pos_case pos_cases[] = {
    {FIRE, "there's smoke pouring out of the vent above bay 2"},
    {FIRE, "I can smell something burning near the electrical outlet"},
    {FIRE, "the pc under the desk just caught fire"},
    {FIRE, "FIRE in the kitchen area, flames coming up the wall"},
    {FIRE, "the smoke detector in the hallway is going off and it's smoky"},
    {FIRE, "the extension cord is melting and smells like burnt plastic"},
    {FIRE, "sparks are flying out of the wall socket behind the tv"},
    {FIRE, "we can smell gas in the lobby, it's really strong"},
    {FIRE, "the alarm is blaring and everyone is evacuating"},
    {FIRE, "customer at harbourview reports a fire in the washroom trash bin"},
    {FIRE, "Smoke coming from the projector mount, should we leave?"},
    {FIRE, "the outlet by bay 3 is sparking and there's a burning smell"},
    {FIRE, "help! there's a fire"},
    {FIRE, "theres smoke everywhere"},
    {FIRE, "the outlet is smoking"},
    {FIRE, "bay 2 projector is smoking and smells awful"},
    {FIRE, "something is on fire behind the hitting screen"},
    {FIRE, "there's a weird electrical burning smell in bay 3"},
    {FIRE, "the smoke alarm won't stop going off and the room is hazy"},
    {FIRE, "Flames! Call the fire department!"},
    {FIRE, "the heater in the corner is smoking"},
    {FIRE, "the power bar under the desk just popped and now there's smoke"},
    {FIRE, "we need to get out, the building is on fire"},
    {FIRE, "fire alarm going off in riverside"},
    {MED, "my dad just passed out in bay 1 and isn't responding"},
    {MED, "someone here is having a seizure"},
    {MED, "a lady fainted by the front door"},
    {MED, "my friend is choking on a pretzel and can't breathe"},
    {MED, "he's having a heart attack i think, clutching his chest"},
    {MED, "a ball bounced back and hit my son in the eye, he's bleeding"},
    {MED, "call an ambulance please, my husband fell and hit his head"},
    {MED, "she's having an allergic reaction, where is the epipen"},
    {MED, "my wife's lips are swelling and she says her throat feels tight"},
    {MED, "guy in bay 4 is on the ground not moving"},
    {MED, "I think my buddy broke his wrist on the follow through, it's bent badly"},
    {MED, "my friend collapsed after his swing"},
    {MED, "there's a lot of blood, he cut his hand on the broken glass"},
    {MED, "customer says her father is slurring his words and his face is drooping"},
    {MED, "we can't wake her up, she's breathing but out cold"},
    {MED, "My kid got hit in the face with a club, his nose is bleeding a lot"},
    {MED, "he got hit in the head by a golf ball and he's dizzy"},
    {MED, "someone is unconscious in the washroom"},
    {MED, "my buddy took a ball to the head and is really out of it"},
    {MED, "older gentleman in bay 1 says he feels faint and his arm is numb"},
    {MED, "there's a woman on the bathroom floor and she won't respond"},
    {MED, "my friend is having trouble breathing, he has asthma and no inhaler"},
    {MED, "a kid fell off the hitting platform and his arm looks broken"},
    {MED, "he's unconscious!!"},
    {MED, "customer fainted in the lobby"},
    {MED, "my husband is having a seizure on the floor"},
    {MED, "need an ambulance at harbourview asap"},
    {MED, "blood is pouring from his head"},
    {MED, "someone got hit with a club and is bleeding from the head"},
    {SEC, "a guy with a knife is in the lobby"},
    {SEC, "someone is trying to break in through the back door"},
    {SEC, "two guys are fighting in bay 3 and it's getting ugly"},
    {SEC, "a drunk man keeps harassing the women in the next bay"},
    {SEC, "some stranger followed us in and refuses to leave"},
    {SEC, "someone stole my golf clubs from bay 2 while we were at the washroom"},
    {SEC, "a guy punched my friend in the face"},
    {SEC, "this man is threatening to hurt us if we don't give him the bay"},
    {SEC, "there's a guy outside banging on the door and screaming threats"},
    {SEC, "customer says a stranger grabbed her purse and ran out"},
    {SEC, "a man with a gun just walked into the building"},
    {SEC, "there's an intruder in the back room"},
    {SEC, "please call the police, a guy is smashing the window out front"},
    {SEC, "guy threatening staff with a golf club"},
    {SEC, "a group of drunk guys is harassing us"},
    {SEC, "someone smashed the glass door and ran"},
    {SEC, "there's a guy in the parking lot threatening people with a bat"},
    {SEC, "someone broke into our car in your parking lot just now"},
    {SEC, "a man is trying to force the door open at the back"},
    {SEC, "two drunk guys started throwing punches in bay 4"},
    {SEC, "a stranger keeps following my daughter around the lobby"},
    {SEC, "someone is robbing the place"},
    {SEC, "a guy just ran off with my clubs"},
    {SEC, "this dude is getting aggressive with us and won't back off"},
    {SEC, "some man came in and is screaming at everyone"},
    {WATER, "water is coming through the ceiling in bay 2"},
    {WATER, "the bathroom sink is overflowing and the floor is flooded"},
    {WATER, "there's a leak in the roof and it's dripping onto the hitting mat"},
    {WATER, "a pipe burst in the washroom"},
    {WATER, "the turf in bay 4 is soaked and there's a puddle spreading"},
    {WATER, "the hallway is flooding"},
    {WATER, "the sprinklers went off in bay 1 and everything is getting soaked"},
    {WATER, "toilet is backing up and sewage is on the floor"},
    {WATER, "ceiling tile is sagging and dripping water"},
    {WATER, "there's water pouring down the wall next to the screen"},
    {WATER, "water everywhere in the washroom"},
    {WATER, "our bay has an inch of water on the floor"},
    {WATER, "the roof is leaking badly over bay 3"},
    {WATER, "water's gushing from under the sink"},
    {WATER, "there's about an inch of water in the washroom"},
    {WATER, "the ceiling is dripping onto the projector"},
    {WATER, "the hot water tank burst in the back room"},
    {WATER, "the carpet by the entrance is drenched and squishy"},
    {WATER, "the bathroom is flooded"},
    {POWER, "the power just went out"},
    {POWER, "we lost power in the whole building"},
    {POWER, "all the lights went out at once and the sims are off"},
    {POWER, "Power outage at Riverside, everything is dark"},
    {POWER, "it's pitch black in here, nothing works"},
    {POWER, "the breaker tripped and now all the bays are dark"},
    {POWER, "blackout at harbourview, no lights anywhere"},
    {POWER, "the electricity went out and we're stuck in the dark"},
    {POWER, "everything shut off, lights and computers and all"},
    {POWER, "customer reports no power at all in the building"},
    {POWER, "the whole place just went dark"},
    {POWER, "all the power is out"},
    {POWER, "Lights just went out across the whole place"},
    {POWER, "the lights just died in the whole building"},
    {POWER, "we have no electricity"},
    {POWER, "the power keeps cutting in and out"},
    {POWER, "everything went off at once, even the lights"},
    {POWER, "power's out at riverside"},
    {POWER, "it's completely dark in here, all the screens and lights are off"},
};

static const char *const neg_cases[] = {
    "this trackman is killing me",
    "i'm dying to play this weekend",
    "my swing is on fire today",
    "killer deal on the membership, signing up",
    "the screen went black in bay 2",
    "the sim is dead again",
    "this place is fire, love it",
    "the projector went dark but the lights are on",
    "my putting is on fire lol",
    "can i smoke on the patio",
    "is smoking allowed in the bays?",
    "I smoked that drive 300 yards",
    "we're crushing it, absolutely on fire tonight",
    "my slice is going to kill me",
    "my wife will kill me if i stay another hour",
    "i choked on the 18th again, three putts",
    "we got flooded with bookings this week, can you add a bay?",
    "my ball keeps going in the water on hole 7",
    "can i bring a water bottle into the bay?",
    "the water fountain in the lobby is empty",
    "the lights in bay 3 are too bright, can you dim them?",
    "how do i turn off the lights when we leave?",
    "the power button on the pc doesn't work",
    "no power to the projector in bay 2",
    "the tv in bay 4 has no power",
    "the internet is down, wifi outage?",
    "is there a fire exit near bay 1?",
    "what do we do in case of a fire?",
    "do you have a first aid kit?",
    "i'm breaking in my new driver today",
    "this game is a steal at that price",
    "i grabbed my clubs and left, did i leave my glove?",
    "someone took my booking slot, can you check?",
    "the guy in the next bay is hilarious lol",
    "we had a fight over who pays haha",
    "my buddy is fighting a nasty hook tonight",
    "the ball hit the ceiling, is that ok?",
    "can we get the speed gun readings?",
    "the radar gun says 95 mph",
    "our team is on fire in the league",
    "my back is killing me after 2 hours",
    "my score is a disaster, total blackout on the back nine",
    "the screen is frozen and not responding",
    "the pc won't wake up from sleep",
    "can't wake the computer, screen stays black",
    "i hit my drive into the trees and then the water",
    "the simulator crashed, everything froze",
    "is the building open during the power company's planned outage next week?",
    "do you have any gluten free or nut free snacks? my son has a nut allergy",
    "my heart rate goes crazy on the first tee lol",
    "that putt gave me a heart attack",
    "the side screens died",
    "our bay's screen went black and won't come back on",
    "i'm soaked from the rain, can we come in early?",
    "blackout dates on the promo?",
    "i'm bleeding money on these lessons haha",
    "the audio cut out in bay 2",
    "we broke 80 today!",
    "he snapped his driver shaft, can we buy one?",
    "emergency! left my wallet at the front desk",
    "the fire alarm test is scheduled for tuesday",
    "is there parking near the fire station?",
    "we got smoked by the other team",
    "my phone alarm went off mid swing lol",
    "the alarm on the door beeps when we open it",
    "got burned by the cancellation fee",
    "the sim is glitching and the screen is flickering",
    "what a killer shot",
    "we stole a win on the last hole",
    "the bay is freezing cold, can you turn up the heat",
    "the urinal won't stop running",
    "water pressure in the bathroom sink is low",
    "my knees are killing me",
    "i almost died laughing",
    "he's going to destroy us in the league",
    "someone parked in my spot",
    "our bay flooded with sunlight this morning, gorgeous",
    "the toilet seat is broken",
    "we're on fire tonight, can we extend another hour?",
    "my drives are smoking today",
    "that last shot was a total bomb lol",
    "the sim keeps crashing, it's dead in the water",
    "can we book the bay for a fire department team outing?",
    "the projector is super hot to the touch, is that normal?",
    "the screen is glitching and the colours are bleeding",
    "the side tv keeps going black every few minutes",
    "our scorecard got wiped, the game crashed and everything is gone",
    "the lights in bay 2 are flickering a bit",
    "can you turn the lights back on in bay 1? they went off automatically",
    "the ac is dripping a little onto the windowsill, not urgent",
    "where's the washroom?",
    "my wrist hurts from hitting too many balls, any tips?",
    "my friend is sick, can we cancel tonight?",
    "i feel sick, need to cancel my booking",
    "we're stuck in traffic, running 15 min late",
    "the door alarm keeps beeping when we open it",
    "i think the sim's radar is broken",
    "my card was declined, is it broken?",
    "who's the best player in your league? he's a killer",
    "someone left their jacket in bay 3",
    "there's a guy in bay 2 who's really good, is he a pro?",
    "the guys next door are loud but fine",
    "can i bring my dog?",
    "how do i shoot lower scores?",
    "the screen froze and went dark, can you restart it?",
    "this round is a bloodbath lol",
    "my buddy is hurt that we didn't invite him",
    "the water in the washroom tap is cold",
    "is there a first aid kit in each bay?",
    "is the fire exit at the back of the building?",
    "the heater's not working, it's freezing in here",
    "my phone died, can you text me the code at this number instead?",
    "the tv's power cable is unplugged",
    "can you check the breaker schedule for maintenance next week?",
    "how long is the power cord for the launch monitor?",
    "my kid is bored out of his mind",
    "he's dead set on booking the big bay",
    "we're dying of thirst, can we order drinks?",
    "the music is blasting, can you turn it down",
    "the tracer is glowing red on the screen",
    "we got robbed on that last putt, it was in!",
};

/* Cases by category: the level the rules alone must reach, and the slug. */
static const struct {
	const char *cat;
	int         level;
	const char *slug; /* NULL at EM_NONE */
	const char *text;
} cat_cases[] = {
    /* alarms described by what people see and hear */
    {"alarm-heard", EM_SURE, FIRE,
     "a siren is blaring in the hall and the exit lights are flashing"},
    {"alarm-heard", EM_SURE, FIRE, "the strobes are flashing and there is a horrible horn noise"},
    {"alarm-heard", EM_SURE, FIRE, "deafening beeping everywhere in the building"},
    {"alarm-heard", EM_SURE, FIRE, "the detector over the bar is screeching"},
    {"alarm-heard", EM_SURE, FIRE, "smoke detector going off non stop in bay 2"},
    {"alarm-heard", EM_NONE, NULL, "my car alarm is blaring in the parking lot, sorry"},
    {"alarm-heard", EM_NONE, NULL, "the door alarm beeps every time we open it"},
    {"alarm-heard", EM_NONE, NULL, "the smoke detector chirps, i think the battery is low"},
    /* gas and smells */
    {"gas", EM_SURE, FIRE, "smells like rotten eggs in the back hallway"},
    {"gas", EM_SURE, FIRE, "propane smell near the heater"},
    {"gas", EM_SURE, FIRE, "ca sent le gaz dans le couloir"},
    {"gas", EM_POSSIBLE, FIRE, "there is a weird smell in bay 3"},
    {"gas", EM_NONE, NULL, "how much is gas at the station down the road"},
    /* very short or shouted */
    {"short", EM_SURE, FIRE, "FIRE!!!"},
    {"short", EM_SURE, FIRE, "fire in bay 3"},
    {"short", EM_SURE, WATER, "FLOODING!!"},
    {"short", EM_SURE, MED, "EMERGENCY"},
    {"short", EM_SURE, SEC, "someone broke in!!"},
    {"short", EM_POSSIBLE, MED, "help!!"},
    {"short", EM_POSSIBLE, MED, "please help"},
    {"short", EM_NONE, NULL, "fire sale?"},
    {"short", EM_NONE, NULL, "this place is fire"},
    {"short", EM_NONE, NULL, "help me change my booking to friday"},
    /* violence and break-ins now */
    {"violence", EM_SURE, SEC, "a guy is swinging a bat at people outside"},
    {"violence", EM_SURE, SEC, "my boyfriend is getting violent"},
    {"violence", EM_SURE, SEC, "some men jumped my friend in the lot"},
    {"break-in", EM_SURE, SEC, "someone is breaking into the office"},
    {"break-in", EM_SURE, SEC, "a man is climbing in through the back window"},
    {"break-in", EM_SURE, SEC, "the front window was smashed and someone is inside"},
    {"break-in", EM_POSSIBLE, SEC, "somebody sketchy is hanging around the back door"},
    {"break-in", EM_NONE, NULL, "i'm breaking in my new glove tonight"},
    /* a fire in the same message as another request */
    {"multi", EM_SURE, FIRE, "can i get a receipt? also the outlet by bay 2 is smoking"},
    {"multi", EM_SURE, POWER, "all the lights went out, and do you have a promo code?"},
    /* French, with accents and without, and mixed */
    {"french", EM_SURE, FIRE,
     "Au feu! Il y a de la fum\xc3\xa9"
     "e partout"},
    {"french", EM_SURE, FIRE, "au feu il y a de la fumee partout"},
    {"french", EM_SURE, FIRE, "l'alarme d'incendie sonne"},
    {"french", EM_SURE, MED, "mon fr\xc3\xa8re s'est \xc3\xa9vanoui"},
    {"french", EM_SURE, MED, "mon frere s'est evanoui"},
    {"french", EM_SURE, MED, "elle ne respire plus"},
    {"french", EM_SURE, SEC, "un gars a un couteau"},
    {"french", EM_SURE, SEC, "ils se battent dans le stationnement"},
    {"french", EM_SURE, WATER,
     "la toilette d\xc3\xa9"
     "borde"},
    {"french", EM_SURE, POWER, "panne d'\xc3\xa9lectricit\xc3\xa9"},
    {"french", EM_SURE, FIRE, "ya de la smoke qui sort du pc"},
    {"french", EM_NONE, NULL, "c'est le feu ce soir, on peut rester une heure de plus?"},
    {"french", EM_NONE, NULL, "je vais tuer mon chum s'il gagne encore"},
    {"french", EM_NONE, NULL, "que faire en cas d'incendie?"},
    {"french", EM_NONE, NULL, "il y a eu une panne de courant hier"},
    {"french", EM_NONE, NULL,
     "l'\xc3\xa9"
     "cran est mort"},
    /* tense: a story is not an emergency; "still" or "right now" is */
    {"past", EM_NONE, NULL, "someone broke into my car here last month, do you have cameras?"},
    {"past", EM_NONE, NULL, "the bathroom flooded last time we came, is it fixed?"},
    {"past", EM_NONE, NULL, "the power went out yesterday during my booking, credit?"},
    {"past", EM_NONE, NULL, "we had a grease fire at home so we're late"},
    {"past", EM_SURE, WATER, "the bathroom flooded yesterday and it's still flooding right now"},
    {"past", EM_SURE, MED, "he fainted a few minutes ago and still won't wake up"},
    /* hypotheticals and policy questions */
    {"hypothetical", EM_NONE, NULL, "what if someone collapses on the mat?"},
    {"hypothetical", EM_NONE, NULL, "do you have an aed?"},
    {"hypothetical", EM_NONE, NULL, "can i call 911 from the kiosk if i need to?"},
    {"hypothetical", EM_SURE, MED, "is there an aed? he's not breathing"},
    /* devices described like people */
    {"device", EM_NONE, NULL, "the pc died again"},
    {"device", EM_NONE, NULL, "our projector is dead"},
    {"device", EM_NONE, NULL, "the kiosk is unresponsive"},
    {"device", EM_NONE, NULL, "the trackman stopped responding"},
    /* hyperbole */
    {"hyperbole", EM_NONE, NULL, "i'm going to kill my brother for booking 7am"},
    {"hyperbole", EM_NONE, NULL, "my wallet is bleeding this month"},
    {"hyperbole", EM_NONE, NULL, "the guy in bay 3 is killing it"},
    /* typos, and a head hit by accident is not an assault */
    {"typo", EM_SURE, FIRE, "smok coming from the pc"},
    {"typo", EM_SURE, MED, "my dad colapsed"},
    {"typo", EM_SURE, MED, "he hit his head on the beam and is bleeding"},
    {"typo", EM_NONE, NULL, "je suis fier de mon score"},
    /* one slip in a panic: a letter left out, one too many, two swapped */
    {"typo", EM_SURE, WATER, "hlep brokn pipe in the washroom"},
    {"typo", EM_SURE, FIRE, "FIER IN BAY 4"},
    {"typo", EM_SURE, MED, "she is not breathign"},
    {"typo", EM_SURE, FIRE, "smokee pouring out of the vent"},
    /* ... but a real word one slip away stays itself */
    {"typo", EM_NONE, NULL, "the flooring by the mat is peeling"},
    {"typo", EM_NONE, NULL, "is the smoker's bench out back still there"},
    {"typo", EM_NONE, NULL, "can we order food to bay 2"},
    /* a theft going on, in the present */
    {"theft", EM_SURE, SEC, "two kids are grabbing drivers off the wall and running out"},
    {"theft", EM_SURE, SEC, "a man came in without a booking and is walking out with our clubs"},
    {"theft", EM_NONE, NULL, "we're grabbing our clubs from the trunk, be right in"},
    {"theft", EM_NONE, NULL, "someone took our bay even though we booked it"},
    /* French chest pain said any way */
    {"french", EM_SURE, MED, "mon chum a une douleur dans la poitrine"},
    /* a device described in words that describe people, no person named */
    {"device", EM_NONE, NULL, "the pc froze and is totally unresponsive, please reboot"},
    {"device", EM_SURE, MED, "the pc froze and my friend is totally unresponsive"},
    {"device", EM_NONE, NULL, "the screen went black but the lights are fine"},
    /* a supposition; a bottle that leaks */
    {"hypothetical", EM_NONE, NULL, "suppose someone collapses in a bay, what do staff do"},
    {"spill", EM_NONE, NULL, "my water bottle leaked on the floor, sorry"},
    {"spill", EM_SURE, WATER, "water is leaking from the ceiling onto the floor"},
    /* small spills and "not urgent" */
    {"spill", EM_NONE, NULL, "spilled my beer on the mat, can someone bring a towel?"},
    {"spill", EM_NONE, NULL, "a bit of water on the floor from our umbrellas"},
    {"spill", EM_POSSIBLE, WATER, "the ceiling is dripping a little, not urgent"},
    /* the possible band */
    {"possible", EM_POSSIBLE, MED, "my friend is really dizzy"},
    {"possible", EM_POSSIBLE, MED, "someone slipped by the door"},
    {"possible", EM_POSSIBLE, SEC, "someone is shouting in the parking lot"},
    {"possible", EM_NONE, NULL, "my friend is sick so we need to cancel tonight"},
    /* a guard word that a word of place governs is where, not what */
    {"place", EM_SURE, MED, "my uncle collapsed right by the net"},
    {"place", EM_SURE, MED, "behind the mat my brother collapsed and is breathing funny"},
    {"place", EM_NONE, NULL, "the net collapsed behind the mat, can someone fix it"},
    {"place", EM_NONE, NULL, "the shelf by the door fell over"},
    /* asking whether someone is fine is no sign that they are */
    {"unsure", EM_POSSIBLE, MED, "a lady is sitting on the curb out front, not sure if shes ok"},
    {"unsure", EM_NONE, NULL, "she fell last week but shes ok now"},
    {"unsure", EM_NONE, NULL, "dont know if hes ok with a 9 pm start, ill ask him"},
    /* sport on tv; golf's words for losing */
    {"sport", EM_NONE, NULL, "tiger was on fire at the 2019 masters"},
    {"sport", EM_NONE, NULL, "my putting is bleeding strokes every round"},
    {"sport", EM_NONE, NULL, "the speakers in bay 3 are so loud my ears are bleeding"},
    {"sport", EM_SURE, MED, "he hit his head on the rail and his ear is bleeding"},
    {"sport", EM_SURE, FIRE, "the masters is playing in bay 2 and the tv just caught fire"},
    /* a haze in the room; a bang nobody can place */
    {"haze", EM_SURE, FIRE, "the air in the lobby has a weird haze and my throat stings"},
    {"haze", EM_NONE, NULL, "any hazy ipa on tap tonight?"},
    {"bang", EM_POSSIBLE, FIRE, "we heard a massive bang from the utility closet"},
    {"bang", EM_NONE, NULL, "the ball hits the screen with a loud bang, is that normal"},
    /* French: a weekday gone by; someone who will not leave */
    {"french", EM_NONE, NULL, "la porte etait barree jeudi dernier, on peut avoir un credit"},
    {"french", EM_NONE, NULL, "Il y a eu une panne de courant vendredi passe pendant la partie"},
    {"french", EM_SURE, SEC, "un client ivre refuse de quitter la baie et crie apres le monde"},
    {"french", EM_POSSIBLE, MED, "un homme est couche dehors, je sais pas s il respire"},
    /* spoken Quebec French for the same emergencies */
    {"french", EM_SURE, SEC, "ca se bataille en avant, un client se fait varger"},
    {"french", EM_SURE, MED, "mon pere respire pu pis il vire bleu"},
    {"french", EM_SURE, MED, "elle vient de perdre connaissance au comptoir"},
    {"french", EM_SURE, SEC, "j entends un gars defoncer la porte d en arriere"},
    {"french", EM_SURE, FIRE, "ca sonne partout pis les lumieres clignotent, on sort?"},
    {"french", EM_NONE, NULL, "mon putter est en feu a soir"},
    {"french", EM_NONE, NULL, "le courant a saute chez nous a Gatineau, rien a voir avec vous"},
    {"french", EM_SURE, POWER, "panne de courant chez nous a Riverside, tout est noir"},
    /* a club's head; a safety question; a warm outlet */
    {"device", EM_NONE, NULL, "my buddy cracked the head on his driver, do you sell clubs"},
    {"device", EM_SURE, MED, "he cracked his head on the rail and is bleeding"},
    {"hypothetical", EM_NONE, NULL, "could a ball bounce back off the screen and hurt someone"},
    {"possible", EM_POSSIBLE, FIRE, "the plug behind the tv in bay 2 is really warm"},
    {"possible", EM_NONE, NULL, "is the coffee maker plug ok to use"},
    /* a guard word holds back only within its clause */
    {"clause", EM_SURE, FIRE, "message from the team line: flames above bay 2"},
    {"clause", EM_NONE, NULL, "we want to book a team event, fire in the hole!"},
    /* a supposition opening a clause; asking about an emergency */
    {"hypothetical", EM_NONE, NULL, "say the power goes out mid round, do we get a credit"},
    {"hypothetical", EM_NONE, NULL, "in an emergency who do i text first"},
    {"hypothetical", EM_SURE, FIRE, "they say theres smoke in the hallway right now"},
    /* breathing, the chest, diabetes, heat */
    {"medical", EM_SURE, MED, "my wife cant catch her breath and is wheezing"},
    {"medical", EM_SURE, MED, "feels like pressure on my chest and im sweating"},
    {"medical", EM_SURE, MED, "hes diabetic and getting really shaky and confused"},
    {"medical", EM_NONE, NULL, "do you have sugar free drinks for diabetic guests"},
    {"french", EM_SURE, MED, "mon frere fait un coup de chaleur, il delire"},
    /* a device having "a seizure"; a theft in progress */
    {"device", EM_NONE, NULL, "the side screen is flickering like its having a seizure"},
    {"theft", EM_SURE, SEC, "someones walking out with our golf bags right now"},
    /* unsure whether it leaks; something hot that should not be */
    {"possible", EM_POSSIBLE, WATER, "the mat is wet, not sure if its a spill or a leak"},
    {"possible", EM_POSSIBLE, FIRE, "the power supply under the desk is really hot"},
    /* the eighth set's categories, in other words: a deep cut told by what
     * it does, a broken bone in French, equipment carried off now */
    {"medical", EM_SURE, MED, "my son split his thumb open on the tee, it wont stop bleeding"},
    {"medical", EM_SURE, MED, "cut deep on the rail, the napkin is soaked through already"},
    {"french", EM_SURE, MED, "je crois qu il s est casse la cheville, l os sort presque"},
    {"theft", EM_SURE, SEC, "a guy just went out the door with the launch monitor under his arm"},
    {"theft", EM_SURE, SEC, "people are loading the projector into a truck, they dont work here"},
    /* possible: a body part held or that popped, lights that flicker,
     * "is he ok?" asked outright */
    {"possible", EM_POSSIBLE, MED, "my shoulder popped on that swing and i cant lift it"},
    {"possible", EM_POSSIBLE, MED, "is she ok? shes been holding her ankle since she slipped"},
    {"possible", EM_POSSIBLE, POWER, "all the lights keep going off and on in the back room"},
    {"possible", EM_NONE, NULL, "lights flickered once, everything came back on, all good"},
    {"possible", EM_NONE, NULL, "he popped by earlier to grab his jacket"},
    {"possible", EM_NONE, NULL, "my back hurts from golfing, any stretches you recommend"},
    /* not: hitting hard in French, a past incident asked to be made good,
     * a story judged, "what would I do if", a device's own lights, a fire
     * truck down the road, an AED asked about, a golf swing asked about, a
     * threat of a chargeback, nobody hurt */
    {"hyperbole", EM_NONE, NULL, "mon chum frappe comme un fou a soir, c est malade"},
    {"past", EM_NONE, NULL, "the lights went out during our session sunday, can we get a credit"},
    {"past", EM_NONE, NULL, "the brawl outside on friday was wild, is security better now"},
    {"hypothetical", EM_NONE, NULL, "what would we do if the door locked and the power was out"},
    {"device", EM_NONE, NULL, "the kiosk is dead, there are no lights on it"},
    {"elsewhere", EM_NONE, NULL, "why are fire trucks lined up down the street? cant get to you"},
    {"question", EM_NONE, NULL, "are the aeds inspected every year"},
    {"question", EM_NONE, NULL, "i have a bad hip, is swinging a driver ok for me"},
    {"threat", EM_NONE, NULL, "guest is threatening a dispute with his credit card company"},
    {"threat", EM_SURE, SEC, "we have to cancel, a man is threatening us in the lobby"},
    {"minor", EM_NONE, NULL, "knocked the tee box loose, nobody got hurt, sorry about that"},
    /* the ninth set's categories, in other words: French collapse,
     * allergy and a total outage; a "fine" only reported; a bumped head
     * that seems ok; someone who came in on our heels; "out of it" */
    {"french", EM_SURE, MED, "ma blonde vient de s effondrer dans la baie 2"},
    {"french", EM_SURE, MED, "il a touche des arachides, sa gorge enfle pis il a de l urticaire"},
    {"french", EM_SURE, POWER, "panne totale dans le local, on trouve pas la sortie"},
    {"possible", EM_POSSIBLE, MED, "my dad is lightheaded, he insists hes fine"},
    {"possible", EM_POSSIBLE, MED, "she banged her head on the door frame, looks ok though"},
    {"possible", EM_POSSIBLE, SEC, "un inconnu est rentre derriere nous pis y reste dans l entree"},
    {"possible", EM_POSSIBLE, MED, "my buddy puked twice and is really out of it"},
    {"possible", EM_NONE, NULL, "my friend came in with us, can she join our booking"},
    /* not: hitting "comme un pied", a club's face, a draft, an outage at
     * home asked whether we are still open, "still" in a real report */
    {"hyperbole", EM_NONE, NULL, "je frappe comme une pioche a soir, c est gênant"},
    {"device", EM_NONE, NULL, "we cracked the face of a rental putter, what do we owe"},
    {"comfort", EM_NONE, NULL, "kinda drafty by bay 1, can you turn the heat up"},
    {"elsewhere", EM_NONE, NULL, "no power on my whole street, are you guys still open tonight"},
    {"past", EM_SURE, WATER, "the pipe burst last night and water is still pouring in"},
    /* the seventh set's emergency categories (its errors were seen this
     * day), in other words: labour, a restraining order, French swelling,
     * theft and a dark outage; feeling off; "come quick" */
    {"medical", EM_SURE, MED, "my partner is in labour in bay 4, contractions are close"},
    {"medical", EM_POSSIBLE, WATER, "the water cooler line broke, theres a puddle by the door"},
    {"security", EM_SURE, SEC, "a guy with a no contact order against my sister just walked in"},
    {"french", EM_SURE, MED, "son visage enfle pis il a de la misere a avaler"},
    {"french", EM_SURE, SEC, "un gars se sauve avec nos batons dans le stationnement"},
    {"french", EM_SURE, POWER, "tout a saute, y a pus de courant pis on voit rien"},
    {"possible", EM_POSSIBLE, MED, "my wife is feeling kinda off, she's resting on the bench"},
    {"possible", EM_POSSIBLE, MED, "something's wrong with my dad, come quick"},
    {"possible", EM_NONE, NULL, "something is wrong with the screen in bay 2"},
    {"sports", EM_NONE, NULL, "we play for blood every thursday, loser buys"},
    {"hypothetical", EM_NONE, NULL,
     "if the pipes freeze and burst overnight, is my booking cancelled"},
    /* words of those categories that say nothing alone */
    {"french", EM_NONE, NULL, "il fait noir dehors, vous fermez a quelle heure?"},
    {"french", EM_NONE, NULL, "je trouve pas la sortie du menu sur le simulateur"},
    {"device", EM_NONE, NULL, "do i turn the power off and on to reset the sim"},
    {"sports", EM_NONE, NULL, "my ball flight feels off today, any drills"},
    /* probed by hand: asking leave to bring a remedy, one bay's lights,
     * a bank's outage; a face gone grey and no answer */
    {"question", EM_NONE, NULL, "ok if my son brings his epi pen just in case?"},
    {"question", EM_NONE, NULL, "can we bring grandpa's oxygen tank, he has copd"},
    {"device", EM_NONE, NULL, "the overhead lights went out in bay 5 only"},
    {"device", EM_NONE, NULL, "one of the lights above the mat is out"},
    {"elsewhere", EM_NONE, NULL, "debit got refused, is interac having an outage?"},
    {"power", EM_SURE, POWER, "power outage, the whole building just went dark"},
    {"medical", EM_SURE, MED, "grandma went gray and slumped against the wall, she wont answer"},
    /* the eleventh set's categories, in other words: blood through a
     * dressing, breath told by what it does, someone waiting outside for
     * us, French theft, pipe and allergy while asking for the kit; a hot
     * smell, French flicker, a knock with tears, a "fine" asked */
    {"medical", EM_SURE, MED,
     "sliced my thumb on the rail, it's bleeding right through the bandage"},
    {"medical", EM_SURE, MED, "my brother is wheezing hard and can barely talk, what do we do"},
    {"security", EM_SURE, SEC,
     "a guy in the lot keeps yelling that he'll be waiting for us outside, we're afraid to leave"},
    {"french", EM_SURE, SEC, "deux gars sont en train de voler les sacs dans l'entrée"},
    {"french", EM_SURE, WATER, "le tuyau sous l'évier vient de péter, ça gicle"},
    {"french", EM_SURE, MED, "ma blonde fait une réaction allergique, où est l'epipen"},
    {"possible", EM_POSSIBLE, FIRE, "smells like something's a bit hot near the projector?"},
    {"possible", EM_POSSIBLE, POWER, "les lumières flashent dans le lobby, c'est-tu normal?"},
    {"possible", EM_POSSIBLE, MED,
     "my son got whacked on the leg by a ricochet, he's crying, seems ok?"},
    {"possible", EM_POSSIBLE, MED, "kid bumped his head on the frame, crying but seems fine?"},
    {"safe", EM_POSSIBLE, MED, "kid bumped his head on the frame, crying but seems fine"},
    /* not: 911 in a figure of speech, an early exit asked to be credited,
     * a club's face, lock-out "aidez-moi" */
    {"hyperbole", EM_NONE, NULL, "this front nine is a disaster, call 911 on my putting"},
    {"past", EM_NONE, NULL,
     "we left early on friday because of the smoke from the pc, any credit?"},
    {"device", EM_NONE, NULL, "I think I cracked the face on one of the rental putters"},
    {"device", EM_NONE, NULL, "the projector keeps choking and lagging on every swing"},
    {"french", EM_NONE, NULL, "chu bloqué dehors pis mon code marche pas, aidez-moi"},
    /* French read through English (em_gloss_fr): what the English rules know
     * of people, devices and suppositions, without a French phrase for it */
    {"french", EM_SURE, MED, "ma tante est tombée dans l'escalier pis elle bouge pas"},
    {"french", EM_SURE, MED, "son visage gonfle depuis qu'il a mangé le muffin"},
    {"french", EM_SURE, SEC, "un gars saoul crie qu'il va tous nous tuer"},
    {"french", EM_NONE, NULL, "le simulateur bouge pas, il est gelé"},
    {"french", EM_NONE, NULL, "si quelqu'un se blesse, on fait quoi?"},
    {"french", EM_NONE, NULL, "on a brisé un fer, la tête a revolé, personne de blessé"},
    {"french", EM_NONE, NULL, "y'a un feu de circulation en panne devant chez vous"},
    /* probed by hand in English: a mat's stuffing, a plan asked for, a
     * smell outside with all well here (notified, not paged) */
    {"device", EM_NONE, NULL, "the hitting mat is bleeding stuffing at the seam"},
    {"policy", EM_NONE, NULL, "do you have a written evacuation plan for our corporate group"},
    {"safe", EM_POSSIBLE, FIRE, "we smelled smoke from a car in the lot, all good here though"},
    /* a heart or a stroke told by what one sees */
    {"medical", EM_SURE, MED, "grandpa is pale and clammy, says he feels off"},
    {"medical", EM_SURE, MED, "her words are slurred all of a sudden"},
    /* the thirteenth set's categories, in other words: a ball to the
     * temple and double vision (French, through the gloss), walking off
     * with the TV, an arm rubbed, a puddle growing; a flood of last
     * weekend, an outage map "still at the same link", a card reader's
     * beep, "just curious, could it catch fire", asking whether we still
     * have power */
    {"french", EM_SURE, MED, "le petit s'est pris une balle dans la tempe pis y voit double"},
    {"french", EM_SURE, SEC, "une fille est en train de décrocher la télé pis elle s'en va avec"},
    {"possible", EM_POSSIBLE, MED, "my mom keeps rubbing her left arm and says she feels weird"},
    {"possible", EM_POSSIBLE, WATER,
     "the wet spot under the sink keeps getting bigger, not sure why"},
    {"past", EM_NONE, NULL, "last weekend's flood in the hallway, all fixed? coming tonight"},
    {"elsewhere", EM_NONE, NULL,
     "is the hydro outage map still at the same link? no power at my place since noon"},
    {"device", EM_NONE, NULL,
     "the card reader by the door goes beep and flashes red, door still locked"},
    {"hypothetical", EM_NONE, NULL,
     "just curious, if a ball hits the ceiling light could it catch fire?"},
    {"french", EM_NONE, NULL,
     "on a une panne chez nous, vous avez encore du courant à Harbourview?"},
    /* ... and what must stay sure beside them */
    {"medical", EM_SURE, MED, "I'm at work and a customer just collapsed in bay 2"},
    /* the fourteenth set's categories, in other words: someone down who
     * does not answer, a crowbar at the door heard from inside, a screen
     * carried out; a laughing emoji after "call an ambulance", an outage
     * asked about in French ("si y a"), a nosebleed "during our session
     * saturday" that is fine now, a crash on the road and a fire at home
     * keeping them away; a parent feeling off and clammy (possible) */
    {"medical", EM_SURE, MED,
     "a guy just went down in bay 1 and isn't answering, his breathing sounds weird"},
    {"security", EM_SURE, SEC,
     "some guy is trying to pry the side door open, I can hear him from bay 3"},
    {"security", EM_SURE, SEC, "two guys are carrying the projector out to their truck right now"},
    {"hyperbole", EM_NONE, NULL,
     "that putt was so ugly somebody call a paramedic \xf0\x9f\xa4\xa3"},
    {"french", EM_NONE, NULL,
     "c'est quoi la procédure si y'a une coupure de courant pendant la partie"},
    {"past", EM_NONE, NULL,
     "my son had a nosebleed during our session saturday, he's totally fine now"},
    {"elsewhere", EM_NONE, NULL, "can't make it tonight, huge crash on the 103 and we're stuck"},
    {"elsewhere", EM_NONE, NULL, "y'a le feu dans mon immeuble, on pourra pas venir"},
    {"possible", EM_POSSIBLE, MED, "my wife is feeling a little off and clammy, probably nothing?"},
    /* the sixteenth set's categories, in other words: smoke and an
     * ambulance misspelt, a thief walking out "right now with" our
     * things; a woman lying still who might be asleep, a hint of gas that
     * might be nothing, a damp ceiling tile spreading, lights flickering
     * again and again (possible); a wallet's heart attack, an alarm heard
     * as they left, a hockey player hurt, a juice box leaking */
    {"fire", EM_SURE, FIRE, "smoak pouring out of the pc tower in bay 1, what do we do"},
    {"medical", EM_SURE, MED, "we need an ambulence at harbourview bay 2 now"},
    {"security", EM_SURE, SEC, "a kid is walking out right now with our putter and the ipad"},
    {"possible", EM_POSSIBLE, MED,
     "a lady's been lying on the bench forever and isnt moving, probably just asleep?"},
    {"possible", EM_POSSIBLE, FIRE, "it smells a bit like gas by the washroom, could be nothing"},
    {"possible", EM_POSSIBLE, WATER,
     "the ceiling tile over bay 3 has a damp spot and it's spreading"},
    {"possible", EM_POSSIBLE, POWER,
     "the lights flickered a couple of times and the bay 1 screen blinked off for a sec, back now "
     "but it keeps doing it"},
    {"hyperbole", EM_NONE, NULL, "my credit card is having a heart attack after this weekend"},
    {"past", EM_NONE, NULL,
     "the fire alarm went off as we were leaving friday night, everything ok after?"},
    {"sports", EM_NONE, NULL, "the leafs goalie got hurt in the first period, brutal"},
    {"spill", EM_NONE, NULL,
     "my son dropped a juice box and it's leaking on the floor, where's a mop"},
    /* the seventeenth set's categories (70 of its 130 in French), in
     * other words: a ball to the head and "toute mêlée", dizzy with
     * blurred sight, lips turning blue, a hand on the chest and pale, a
     * door kicked in while hiding, two men coming in through a window,
     * everything gone black; a stranger wandering (possible); a fire
     * emoji as praise, a splash by the sink, a neighbour's fire, "admettons
     * que", an outage "y'a eu" and back, pain since surgery, whether we
     * are still running while the asker's street is dark */
    {"french", EM_SURE, MED,
     "ma blonde a pogné une balle su'a tête, a l'é toute mêlée pis a vomit"},
    {"french", EM_SURE, MED,
     "mon chum a des etourdissements pis y voit flou depuis le coup de balle"},
    {"french", EM_SURE, MED, "mon oncle est pas capable de respirer, ses lèvres virent bleues"},
    {"french", EM_SURE, MED, "le monsieur se tient la poitrine, y'é blême pis en sueur"},
    {"french", EM_SURE, SEC, "qqn a défoncé la porte d'en avant, on est cachés dans la baie 1"},
    {"french", EM_SURE, SEC, "y'a deux gars en train de rentrer par la vitre d'en arriere"},
    {"french", EM_SURE, POWER, "tout est tombé noir d'un coup à Riverside, on voit rien"},
    {"possible", EM_POSSIBLE, SEC,
     "some random guy who isn't with us is wandering around the bays"},
    {"hyperbole", EM_NONE, NULL, "we're crushing it tonight, bay 3 is on fire \xf0\x9f\x94\xa5"},
    {"spill", EM_NONE, NULL,
     "un peu d'eau par terre près de l'évier, les enfants ont éclaboussé, pour info"},
    {"elsewhere", EM_NONE, NULL, "y'a un feu chez mon voisin, on pourra pas venir à soir"},
    {"hypothetical", EM_NONE, NULL,
     "admettons que l'alarme de feu part pendant notre partie, on fait quoi?"},
    {"past", EM_NONE, NULL,
     "tantôt y'a eu une panne de courant de 5 minutes mais toute est revenu"},
    {"medical", EM_NONE, NULL, "j'ai mal au genou depuis ma chirurgie, y'a-tu des chaises?"},
    {"elsewhere", EM_NONE, NULL,
     "is Riverside still running? power's out in my whole neighbourhood"},
    /* the eighteenth question set's: a water heater in one's basement */
    {"elsewhere", EM_NONE, NULL,
     "the water heater in my basement is leaking a bit, plumber or landlord?"},
    /* dropping someone off is no one dropping */
    {"medical", EM_NONE, NULL, "I just dropped my kid off, he's not answering his texts"},
    /* ... and a doubt never softens a call for help */
    {"medical", EM_SURE, MED, "she collapsed and isn't breathing, might be nothing but come quick"},
    /* the eighteenth emergency set's categories (buried in long messages,
     * hedged, spoken), in other words: a son's inhaler left at home while he
     * wheezes, a chest "really tight" after a word between, a grandfather
     * "has fallen" and will not wake, a ball off the back wall to the face,
     * a gas smell "getting stronger" told with a doubt, French blood and
     * "crise d'asthme" beside a question for the kit, a French theft told as
     * it goes; a ball off the forearm, a stranger knocking at a window
     * (possible); a cousin's flooded basement across town, an outage "dans
     * notre boutte", "mettons qu'il", a French scare that is over and fine,
     * an arm "probably from swinging" (possible, not sure) */
    {"medical", EM_SURE, MED,
     "my son can't catch his breath, his inhaler is at home, he's wheezing badly"},
    {"medical", EM_SURE, MED, "my dad says his chest is really tight and he's all grey"},
    {"medical", EM_SURE, MED, "grandpa has fallen in the lobby and will not wake up"},
    {"medical", EM_SURE, MED,
     "my wife just caught a ball that came back off the wall right in the face, she's bleeding"},
    {"fire", EM_SURE, FIRE,
     "might be nothing but there's a gas smell by the furnace and it's getting stronger"},
    {"french", EM_SURE, MED, "mon pere saigne en masse du bras, c'est ou la trousse?"},
    {"french", EM_SURE, MED,
     "mon frere fait une crise d'asthme pis sa pompe est oubliee a la maison"},
    {"french", EM_SURE, SEC,
     "deux gars sont en train de decrocher la tele du mur pis de partir avec"},
    {"possible", EM_POSSIBLE, MED, "my buddy took a ball off the forearm and is holding it"},
    {"possible", EM_POSSIBLE, SEC,
     "y'a un inconnu qui cogne dans la vitre du lobby pis y'arrete pas"},
    {"possible", EM_POSSIBLE, MED,
     "my brother says his chest feels tight, he thinks it's just from swinging too hard"},
    {"elsewhere", EM_NONE, NULL,
     "my cousin's basement flooded across town so we'll be late, sorry"},
    {"elsewhere", EM_NONE, NULL, "panne de courant dans notre boutte, on va etre en retard"},
    {"hypothetical", EM_NONE, NULL, "mettons qu'il y aurait une fuite de gaz, on sort par ou?"},
    {"past", EM_NONE, NULL, "ma fille a fait un malaise jeudi passe, elle va bien maintenant"},
    /* the nineteenth emergency set's categories (told by someone else: staff,
     * a parent, a neighbour, a passer-by), in other words: lips going
     * blue, a French door forced, a monitor carried out "as we speak"; a
     * van watching the door for an hour (possible); a partner "en feu"
     * with birdies, a burst pipe that "was fixed", loud music hurting a
     * guest's ears, a smell that is "nothing urgent", a wobbly stool, fire
     * trucks at a restaurant while asking whether "my 9pm is still on",
     * concussion rehab */
    {"medical", EM_SURE, MED, "staff: man in bay 1 is gasping, his lips going blue"},
    {"french", EM_SURE, SEC, "deux jeunes forcent la porte de cote a Harbourview, la"},
    {"security", EM_SURE, SEC,
     "neighbour here, someone is carrying your monitors out the back as we speak"},
    {"possible", EM_POSSIBLE, SEC,
     "a van has been parked outside your entrance for an hour, two guys in it watching the door"},
    {"hyperbole", EM_NONE, NULL, "mon chum est en feu a soir, deux birdies d'affilee!"},
    {"past", EM_NONE, NULL,
     "staff: the burst pipe from friday was fixed, the guest wants a credit, who signs off?"},
    {"comfort", EM_NONE, NULL, "la musique est trop forte, ca fait mal aux oreilles du client"},
    {"comfort", EM_NONE, NULL,
     "cleaner: the back hallway smells awful, nothing urgent, just needs air freshener"},
    {"elsewhere", EM_NONE, NULL,
     "fire trucks at the restaurant down from Riverside, is my 9pm still on?"},
    {"medical", EM_NONE, NULL, "can a client doing concussion rehab use bay 3 for soft swings?"},
    /* the nineteenth question set's false alarms, in other words: a couple
     * that keeps fighting about golf, a door lock that beeps and flashes
     * green, the competition as a threat */
    {"security", EM_NONE, NULL,
     "my husband and I keep fighting about how much I golf, any advice on bringing it up?"},
    {"fire", EM_NONE, NULL,
     "at the side door, I tap the link and it beeps and flashes green but won't open"},
    {"security", EM_NONE, NULL, "which competitor is the biggest threat to our business?"},
    /* the twenty-first set's categories (near misses), in other words:
     * "arrive pu a respirer", the power "a manque"; a drip from the
     * ceiling in French (possible); a scorecard that bleeds, a massacre on
     * the par 3, explosive vibes, a French drive "en feu", a player knocked
     * out on television, blood on the ice, a pole that fell over with no
     * one hurt, a fire at a restaurant while asking if the road is still
     * open, a heart attack told from the hospital, "si quelqu'un" */
    {"french", EM_SURE, MED, "mon pere arrive pu a respirer, vite"},
    {"french", EM_SURE, POWER, "le courant a manque a Harbourview, on voit rien"},
    {"possible", EM_POSSIBLE, WATER, "ca degoutte un peu du plafond pres de la baie 3"},
    {"hyperbole", EM_NONE, NULL, "call 911, my score card is bleeding strokes tonight"},
    {"hyperbole", EM_NONE, NULL, "it's a massacre in bay 2, my son is destroying me, send help"},
    {"hyperbole", EM_NONE, NULL, "the energy in here is explosive tonight, in a good way"},
    {"french", EM_NONE, NULL, "mon swing est en feu, appelez les pompiers"},
    {"sports", EM_NONE, NULL, "that boxer got knocked out cold on tv, left on a stretcher"},
    {"sports", EM_NONE, NULL, "blood on the ice in the hockey game, can we watch it in bay 2?"},
    {"equipment", EM_NONE, NULL, "the net pole fell over when he leaned on it, nobody hurt"},
    {"elsewhere", EM_NONE, NULL,
     "fire at the restaurant near riverside, is the street still open? we have a 6pm"},
    {"elsewhere", EM_NONE, NULL, "my dad had a stroke, we're at the hospital, cancel my 7pm"},
    {"hypothetical", EM_NONE, NULL, "pis si qqn fait une crise d'epilepsie, vous avez tu un plan?"},
    /* ... while asking for the kit or the defibrillator in the middle of
     * one is asking for help, not asking a question about the place */
    {"french", EM_SURE, MED, "mon chum respire pu, y'a tu un defibrillateur quelque part?"},
    {"french", EM_SURE, MED, "elle saigne en masse, vous avez tu une trousse?"},
    /* the twenty-second set's categories (short texts), in other words: a
     * head injury named, a chest clutched; pale and not feeling good
     * (possible); a weekday shortened, a smell of sweat, an epipen
     * brought along */
    {"medical", EM_SURE, MED, "head wound at harbourview, lots of blood"},
    {"medical", EM_SURE, MED, "old man grabbing his chest bay 4"},
    {"possible", EM_POSSIBLE, MED, "my wife is not feeling good, really pale"},
    {"past", EM_NONE, NULL, "pipe burst thurs, still owed a refund"},
    {"comfort", EM_NONE, NULL, "lobby smells like sweat ugh"},
    {"medical", EM_NONE, NULL, "bringing my son's epipen, can i keep it in a fridge?"},
    /* the twenty-second question set's false alarms, in other words: gas
     * paid for a ride, greens punched on a course */
    {"fire", EM_NONE, NULL, "can anyone drive me home tonight? I'll pay for gas"},
    {"security", EM_NONE, NULL, "were the greens punched this week? they look rough"},
    /* what a mend kept: a worried "is he ok?" or "he says he's fine" beside a
     * ball off a knee is still checked on, and asking what to do while
     * the TV is carried out still pages */
    {"possible", EM_POSSIBLE, MED, "my daughter took a ball off the knee, is she ok?"},
    {"possible", EM_POSSIBLE, MED,
     "he says he's fine but he took a ball off the wrist and it's swelling"},
    {"security", EM_SURE, SEC, "two guys carrying the kiosk out the front, can we do anything?"},
};

/* test_categories - every category reaches its level, with its slug */
static void
test_categories(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cat_cases) / sizeof(cat_cases[0]); i++) {
		em_match m;
		int      got = em_check(cat_cases[i].text, &m);

		if (got != cat_cases[i].level ||
		    (cat_cases[i].slug != NULL && strcmp(m.slug, cat_cases[i].slug) != 0)) {
			print_message("[%s] want level %d %s, got %d %s (rule %s, guard %s): %s\n",
			              cat_cases[i].cat, cat_cases[i].level,
			              cat_cases[i].slug ? cat_cases[i].slug : "-", got,
			              m.slug ? m.slug : "-", m.rule ? m.rule : "-",
			              m.guard ? m.guard : "-", cat_cases[i].text);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* test_fuse - the classifier's vote, by level and guard */
static void
test_fuse(void **state)
{
	em_match m;

	(void)state;
	/* Alone and unguarded: possible, then sure. */
	em_check("the guy by the door won't take no for an answer", &m);
	assert_int_equal(m.level, EM_NONE);
	assert_null(m.guard);
	assert_int_equal(em_fuse(&m, EM_CLF_POSSIBLE - 0.01, SEC), EM_NONE);
	assert_null(m.slug);
	assert_int_equal(em_fuse(&m, EM_CLF_POSSIBLE, SEC), EM_POSSIBLE);
	assert_string_equal(m.slug, SEC);
	assert_string_equal(m.rule, "classifier");
	em_check("the guy by the door won't take no for an answer", &m);
	assert_int_equal(em_fuse(&m, EM_CLF_SURE, SEC), EM_SURE);
	/* Guarded: left to the rules, however sure the classifier is. */
	em_check("the pc died in bay 3", &m);
	assert_string_equal(m.guard, "device");
	assert_int_equal(em_fuse(&m, 1.0, MED), EM_NONE);
	em_check("someone collapsed here last week, is there a defibrillator now?", &m);
	assert_int_equal(m.level, EM_NONE);
	assert_non_null(m.guard);
	assert_int_equal(em_fuse(&m, 1.0, MED), EM_NONE);
	/* A permission question is a question without its '?' too. */
	em_check("my friend keeps smashing balls into the side netting, is that ok", &m);
	assert_int_equal(m.level, EM_NONE);
	assert_string_equal(m.guard, "hypothetical");
	assert_int_equal(em_fuse(&m, 1.0, SEC), EM_NONE);
	/* A small spill, and a crack that still works: not the classifier's. */
	em_check("my son dropped his juice box and it's leaking all over the mat", &m);
	assert_non_null(m.guard);
	assert_string_equal(m.guard, "spill");
	assert_int_equal(em_fuse(&m, 1.0, WATER), EM_NONE);
	em_check("there's a little crack at the edge of the screen, still works fine", &m);
	assert_non_null(m.guard);
	assert_string_equal(m.guard, "minor");
	assert_int_equal(em_fuse(&m, 1.0, SEC), EM_NONE);
	/* The asker's doubt: the classifier may raise a check, never a page. */
	em_check("heard a guy try the back door twice, might be nothing", &m);
	assert_int_equal(m.level, EM_NONE);
	assert_non_null(m.guard);
	assert_string_equal(m.guard, "doubt");
	assert_int_equal(em_fuse(&m, 1.0, SEC), EM_POSSIBLE);
	em_check("the bay smells like smoke from someone's clothes", &m);
	assert_string_equal(m.guard, "rule-guard");
	assert_int_equal(em_fuse(&m, 1.0, FIRE), EM_NONE);
	em_check("someone slipped by the door, is that covered?", &m);
	assert_int_equal(m.level, EM_POSSIBLE);
	assert_int_equal(em_fuse(&m, 1.0, MED), EM_POSSIBLE);
	/* Possible by the rules: a confident classifier confirms it. */
	em_check("my friend is really dizzy", &m);
	assert_int_equal(m.level, EM_POSSIBLE);
	assert_int_equal(em_fuse(&m, EM_CLF_CONFIRM - 0.01, MED), EM_POSSIBLE);
	assert_int_equal(em_fuse(&m, EM_CLF_CONFIRM, MED), EM_SURE);
	assert_string_equal(m.rule, "unwell");
	/* Sure by the rules: nothing lowers it; no vote changes nothing. */
	em_check("there's smoke in bay 2", &m);
	assert_int_equal(em_fuse(&m, 0.0, NULL), EM_SURE);
	em_check("what are your hours", &m);
	assert_int_equal(em_fuse(&m, 0.99, NULL), EM_NONE);
	assert_int_equal(em_fuse(NULL, 1.0, MED), EM_NONE);
}

/* test_lang - the reply's language follows the message */
static void
test_lang(void **state)
{
	em_match m;

	(void)state;
	em_check("mon ami est \xc3\xa9tourdi", &m);
	assert_string_equal(m.lang, "fr");
	em_check("il y a le feu", &m);
	assert_string_equal(m.lang, "fr");
	em_check("my friend is dizzy", &m);
	assert_string_equal(m.lang, "en");
	em_check("", &m);
	assert_string_equal(m.lang, "en");
	/* em_language says when a text tells nothing */
	assert_string_equal(em_language("est-ce que je peux stationner devant la porte?"), "fr");
	assert_string_equal(em_language("can I park in front of the door?"), "en");
	assert_null(em_language("HUMAIN svp"));
	assert_null(em_language("ok"));
	assert_null(em_language("911"));
	assert_null(em_language(""));
	assert_null(em_language(NULL));
	assert_null(em_language("\xff\xfe\xc3"));
	assert_null(em_language("a")); /* "a" is a word of both */
}

/* test_positives - every emergency phrasing is caught, with the right slug */
static void
test_positives(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(pos_cases) / sizeof(pos_cases[0]); i++) {
		em_match m;

		if (em_check(pos_cases[i].text, &m) != EM_SURE) {
			print_message("missed: [%s] %s\n", pos_cases[i].slug, pos_cases[i].text);
			bad++;
		} else if (strcmp(m.slug, pos_cases[i].slug) != 0) {
			print_message("wrong slug %s (rule %s), want %s: %s\n", m.slug, m.rule,
			              pos_cases[i].slug, pos_cases[i].text);
			bad++;
		}
	}
	assert_true(sizeof(pos_cases) / sizeof(pos_cases[0]) >= 40);
	assert_int_equal(bad, 0);
}

/* test_negatives - dramatic but harmless phrasing is not an emergency */
static void
test_negatives(void **state)
{
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(neg_cases) / sizeof(neg_cases[0]); i++) {
		em_match m;

		if (em_check(neg_cases[i], &m) != EM_NONE) {
			print_message("false emergency %s (rule %s): %s\n", m.slug, m.rule,
			              neg_cases[i]);
			bad++;
		}
	}
	assert_true(sizeof(neg_cases) / sizeof(neg_cases[0]) >= 40);
	assert_int_equal(bad, 0);
}

/* test_severity - when several kinds fire, the most severe wins */
static void
test_severity(void **state)
{
	em_match m;

	(void)state;
	assert_int_equal(em_check("smoke is coming from the wall and a guy collapsed", &m),
	                 EM_SURE);
	assert_string_equal(m.slug, FIRE);
	assert_int_equal(em_check("a man with a knife stabbed my friend, he is bleeding", &m),
	                 EM_SURE);
	assert_string_equal(m.slug, MED);
	assert_int_equal(em_check("a pipe burst and now the power went out", &m), EM_SURE);
	assert_string_equal(m.slug, WATER);
	assert_int_equal(em_check("someone broke in and the power is out", &m), EM_SURE);
	assert_string_equal(m.slug, SEC);
	/* weak rules only count alone */
	assert_int_equal(em_check("call the police, a guy has a gun", &m), EM_SURE);
	assert_string_equal(m.slug, SEC);
	assert_string_equal(m.rule, "weapon");
	assert_int_equal(em_check("911!!! hurry", &m), EM_SURE);
	assert_string_equal(m.slug, MED);
	assert_string_equal(m.rule, "911");
}

/* test_edges - hostile input never crashes and is not an emergency */
static void
test_edges(void **state)
{
	em_match m = {"x", "y", "z", "xx", EM_SURE};
	char    *big;
	size_t   i;

	(void)state;
	assert_int_equal(em_check(NULL, &m), 0);
	assert_null(m.slug);
	assert_null(m.rule);
	assert_int_equal(em_check(NULL, NULL), 0);
	assert_int_equal(em_check("", &m), 0);
	assert_int_equal(em_check("   \t\n", &m), 0);
	assert_int_equal(em_check("!!!???...", &m), 0);
	assert_int_equal(em_check("\xff\xfe\xc3\x28", &m), 0);
	/* "as we speak" means now; its "we" is nobody locked out */
	assert_int_equal(em_check("someone is trying to pry open the back door as we speak", &m),
	                 EM_SURE);
	assert_string_equal(m.slug, "emergency.security-threat");
	assert_int_equal(em_check("we're trying to get in as we speak, the code won't work", NULL),
	                 EM_NONE);
	/* an idiom is folded only as whole words, at the end too */
	assert_int_equal(em_check("someone is trying the door, alias we speak", NULL), EM_NONE);
	assert_int_equal(em_check("someone is trying the door as we speak", NULL), EM_SURE);
	assert_int_equal(em_check("as we speak", NULL), EM_NONE);
	/* one shouted word is a report, not small talk */
	assert_int_equal(em_check("fire", NULL), EM_SURE);
	assert_int_equal(em_check("fire sale?", NULL), EM_NONE);
	assert_int_equal(em_check("there is smoke", NULL), EM_SURE);
	assert_int_equal(em_check("THERE'S SMOKE IN BAY 2", &m), EM_SURE);
	assert_string_equal(m.slug, FIRE);
	assert_non_null(m.rule);
	/* elisions at the edges of a word, and a run of them */
	assert_int_equal(em_check("l' d' qu' ", &m), EM_NONE);
	assert_int_equal(em_check("l'l'l'alarme sonne", &m), EM_NONE);
	assert_int_equal(em_check("l\xe2\x80\x99"
	                          "alarme d\xe2\x80\x99"
	                          "incendie sonne",
	                          &m),
	                 EM_SURE);
	assert_string_equal(m.slug, FIRE);
	/* typographic apostrophes fold like plain ones */
	assert_int_equal(em_check("he\xe2\x80\x99s not breathing", &m), EM_SURE);
	assert_string_equal(m.slug, MED);
	/* 10 KB: an early emergency is found, filler alone is nothing */
	big = malloc(10 * 1024 + 1);
	assert_non_null(big);
	for (i = 0; i < 10 * 1024; i++)
		big[i] = "the sim froze again "[i % 20];
	big[10 * 1024] = '\0';
	assert_int_equal(em_check(big, &m), 0);
	memcpy(big, "pipe burst water everywhere ", 28);
	assert_int_equal(em_check(big, &m), EM_SURE);
	assert_string_equal(m.slug, WATER);
	memset(big, 'a', 10 * 1024);
	assert_int_equal(em_check(big, &m), 0);
	for (i = 0; i < 10 * 1024; i++)
		big[i] = (i % 2) ? ' ' : 'x';
	assert_int_equal(em_check(big, &m), 0);
	free(big);
}

/* read_file - the whole of a small file, or NULL */
static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long  len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len + 1)) != NULL) {
		if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else
			buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

/* test_dev_set - all 20 dev emergencies caught with their slug, no false ones */
static void
test_dev_set(void **state)
{
	const char *path = getenv("CLUBOS_DEV_SET");
	char       *data, *line, *save = NULL;
	size_t      n = 0, nem = 0, missed = 0, wrong = 0, false_em = 0;

	(void)state;
	if (path == NULL || *path == '\0')
		path = DEV_SET_DEFAULT;
	if ((data = read_file(path)) == NULL) {
		print_message("SKIPPED: dev set %s not found (set CLUBOS_DEV_SET)\n", path);
		skip();
	}
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON   *o = cJSON_Parse(line), *msg, *route, *sop;
		em_match m;
		int      want, got;

		if (o == NULL)
			continue;
		msg = cJSON_GetObjectItemCaseSensitive(o, "message");
		route = cJSON_GetObjectItemCaseSensitive(o, "route");
		sop = cJSON_GetObjectItemCaseSensitive(o, "sop");
		assert_true(cJSON_IsString(msg) && cJSON_IsString(route));
		n++;
		want = strcmp(route->valuestring, "emergency") == 0;
		got = em_check(msg->valuestring, &m);
		nem += want;
		if (want && !got) {
			print_message("missed: %s\n", msg->valuestring);
			missed++;
		} else if (want &&
		           (!cJSON_IsString(sop) || strcmp(sop->valuestring, m.slug) != 0)) {
			print_message("wrong slug %s (rule %s): %s\n", m.slug, m.rule,
			              msg->valuestring);
			wrong++;
		} else if (!want && got) {
			print_message("false emergency %s (rule %s): %s\n", m.slug, m.rule,
			              msg->valuestring);
			false_em++;
		}
		cJSON_Delete(o);
	}
	free(data);
	print_message("dev set: %zu messages, %zu emergencies, %zu missed, %zu wrong slug, "
	              "%zu false\n",
	              n, nem, missed, wrong, false_em);
	assert_true(n > 0);
	assert_true(nem > 0);
	assert_int_equal(missed, 0);
	assert_int_equal(wrong, 0);
	assert_int_equal(false_em, 0);
}

/*
 * test_tuning_set - the rules alone on tests/eval/emergency.jsonl: every
 * emergency sure with its slug, every possible one at least possible, and
 * every near miss left alone, category by category.
 */
static void
test_tuning_set(void **state)
{
	char  *data, *line, *save = NULL;
	size_t n = 0, bad = 0;

	(void)state;
	data = read_file(TUNING_SET);
	assert_non_null(data);
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON      *o = cJSON_Parse(line);
		const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(o, "text"));
		const char *label = cJSON_GetStringValue(cJSON_GetObjectItem(o, "label"));
		const char *cat = cJSON_GetStringValue(cJSON_GetObjectItem(o, "category"));
		const char *slug = cJSON_GetStringValue(cJSON_GetObjectItem(o, "slug"));
		em_match    m;
		int         got, ok;

		assert_true(text != NULL && label != NULL && cat != NULL);
		got = em_check(text, &m);
		if (strcmp(label, "emergency") == 0)
			ok = got == EM_SURE && slug != NULL && strcmp(slug, m.slug) == 0;
		else if (strcmp(label, "possible") == 0)
			ok = got >= EM_POSSIBLE;
		else
			ok = got == EM_NONE;
		if (!ok) {
			print_message("[%s] %s got level %d %s (rule %s): %s\n", cat, label, got,
			              m.slug ? m.slug : "-", m.rule ? m.rule : "-", text);
			bad++;
		}
		n++;
		cJSON_Delete(o);
	}
	free(data);
	assert_true(n >= 300);
	assert_int_equal(bad, 0);
}

/* main - run the group */
int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positives),  cmocka_unit_test(test_negatives),
	    cmocka_unit_test(test_severity),   cmocka_unit_test(test_edges),
	    cmocka_unit_test(test_dev_set),    cmocka_unit_test(test_categories),
	    cmocka_unit_test(test_fuse),       cmocka_unit_test(test_lang),
	    cmocka_unit_test(test_tuning_set),
	};

	return cmocka_run_group_tests_name("emergency", tests, NULL, NULL) ? 1 : 0;
}
